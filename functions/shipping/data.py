"""Shipment storage: the interface the logic depends on, and its DynamoDB implementation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from shipping.models import Shipment

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class ShipmentRepository(ABC):
    @abstractmethod
    def create_if_absent(self, shipment: Shipment) -> tuple[Shipment, bool]:
        """Store ``shipment`` unless the order already has one.

        Returns the stored shipment (the existing one on a duplicate) and whether it was created now.
        """


class DynamoDBShipmentRepository(ShipmentRepository):
    """SHIPMENTS_TABLE, keyed by ``order_id``: one item per order is what makes one shipment per order."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table_name = table_name
        self._client = client or boto3.client("dynamodb")

    def create_if_absent(self, shipment: Shipment) -> tuple[Shipment, bool]:
        item = shipment.model_dump(mode="json", exclude_none=True)
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item={key: _serializer.serialize(value) for key, value in item.items()},
                ConditionExpression="attribute_not_exists(order_id)",
                # The existing item comes back with the failure: no second read on a duplicate.
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            existing = error.response.get("Item") or self._get(shipment.order_id)
            return Shipment.model_validate(_deserialize(existing)), False
        return shipment, True

    def _get(self, order_id: str) -> dict[str, Any]:
        response = self._client.get_item(
            TableName=self._table_name, Key={"order_id": {"S": order_id}}, ConsistentRead=True
        )
        return response["Item"]


def _deserialize(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}
