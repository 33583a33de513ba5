"""The analytics repository on DynamoDB."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from notifications.data.repository import AnalyticsRepository
from notifications.domain.models import OutcomeRecord, RecordResult
from shared import dynamodb


def event_key(event_id: str) -> str:
    return f"EVENT#{event_id}"


def day_key(day: str) -> str:
    return f"DAY#{day}"


class DynamoDBAnalyticsRepository(AnalyticsRepository):
    """ANALYTICS_TABLE (key ``pk``): ``EVENT#{event_id}`` dedup markers and ``DAY#{date}`` counters."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table_name = table_name
        self._client = client or dynamodb.client()

    def record_outcome(self, record: OutcomeRecord) -> RecordResult:
        day = record.day.isoformat()
        marker = {
            "pk": {"S": event_key(record.event_id)},
            "event_id": {"S": record.event_id},
            "detail_type": {"S": record.detail_type},
            "order_id": {"S": record.order_id},
            "day": {"S": day},
        }
        update = "ADD #count :one"
        names = {"#count": f"{record.detail_type}_count"}
        values: dict[str, Any] = {":one": {"N": "1"}}
        if record.confirmed_cents is not None:
            update += ", #cents :cents"
            names["#cents"] = "confirmed_cents"
            values[":cents"] = {"N": str(record.confirmed_cents)}
        try:
            # Marker and counters commit together: a duplicate fails the marker's condition
            # and the whole transaction, so it counts nothing.
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table_name,
                            "Item": marker,
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table_name,
                            "Key": {"pk": {"S": day_key(day)}},
                            "UpdateExpression": update,
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": values,
                        }
                    },
                ]
            )
        except ClientError as error:
            if not _marker_exists(error):
                raise  # throttling, a transaction conflict, ...: the record is retried
            existing = error.response["CancellationReasons"][0].get("Item") or self._get_marker(record.event_id)
            return RecordResult(first_time=False, notified="notified_at" in existing)
        return RecordResult(first_time=True, notified=False)

    def mark_notified(self, event_id: str, at: datetime) -> None:
        self._client.update_item(
            TableName=self._table_name,
            Key={"pk": {"S": event_key(event_id)}},
            UpdateExpression="SET notified_at = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":at": {"S": at.isoformat()}},
        )

    def _get_marker(self, event_id: str) -> dict[str, Any]:
        response = self._client.get_item(
            TableName=self._table_name, Key={"pk": {"S": event_key(event_id)}}, ConsistentRead=True
        )
        return response.get("Item", {})


def _marker_exists(error: ClientError) -> bool:
    """The marker's condition (the transaction's first action) refused it: a duplicate."""
    codes = dynamodb.cancellation_codes(error)
    return dynamodb.error_code(error) == dynamodb.TRANSACTION_CANCELED and codes[:1] == ["ConditionalCheckFailed"]
