"""The shipment repository on DynamoDB."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from shared import dynamodb
from shipping.data.repository import ShipmentRepository
from shipping.domain.models import Shipment


class DynamoDBShipmentRepository(ShipmentRepository):
    """SHIPMENTS_TABLE, keyed by ``order_id``: one item per order is what makes one shipment per order."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table_name = table_name
        self._client = client or dynamodb.client()

    def create_if_absent(self, shipment: Shipment) -> tuple[Shipment, bool]:
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item=dynamodb.to_item(shipment.model_dump(mode="json", exclude_none=True)),
                ConditionExpression="attribute_not_exists(order_id)",
                # The existing item comes back with the failure: no second read on a duplicate.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not dynamodb.condition_failed(error):
                raise
            existing = error.response.get("Item") or self._get(shipment.order_id)
            return Shipment.model_validate(dynamodb.from_item(existing)), False
        return shipment, True

    def _get(self, order_id: str) -> dict[str, Any]:
        response = self._client.get_item(
            TableName=self._table_name, Key={"order_id": {"S": order_id}}, ConsistentRead=True
        )
        return dict(response["Item"])
