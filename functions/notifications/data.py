"""Analytics storage: the interface the logic depends on, and its DynamoDB implementation."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

import boto3
from botocore.exceptions import ClientError

from notifications.models import OutcomeRecord, RecordResult


class AnalyticsRepository(ABC):
    @abstractmethod
    def record_outcome(self, record: OutcomeRecord) -> RecordResult:
        """Count the event once. On a duplicate, count nothing and say whether it was already notified."""

    @abstractmethod
    def mark_notified(self, event_id: str, at: datetime) -> None:
        """Remember that the event's notification was published."""


def event_key(event_id: str) -> str:
    return f"EVENT#{event_id}"


def day_key(day: str) -> str:
    return f"DAY#{day}"


class DynamoDBAnalyticsRepository(AnalyticsRepository):
    """ANALYTICS_TABLE (key ``pk``): ``EVENT#{event_id}`` dedup markers and ``DAY#{date}`` counters."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table_name = table_name
        self._client = client or boto3.client("dynamodb")

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
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons") or []
    return bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"
