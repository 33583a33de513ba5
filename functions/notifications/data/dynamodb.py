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


BY_DAY_INDEX = "ByDay"  # partition key `day`, sort key `pk`; projects detail_type and confirmed_cents


class DynamoDBAnalyticsRepository(AnalyticsRepository):
    """ANALYTICS_TABLE (key ``pk``): one ``EVENT#{event_id}`` item per counted event, which is both its
    dedup marker and its count; a day's counts are a query of the ``ByDay`` index (`day_counts`)."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table_name = table_name
        self._client = client or dynamodb.client()

    def record_outcome(self, record: OutcomeRecord) -> RecordResult:
        marker = {
            "pk": {"S": event_key(record.event_id)},
            "event_id": {"S": record.event_id},
            "detail_type": {"S": record.detail_type},
            "order_id": {"S": record.order_id},
            "day": {"S": record.day.isoformat()},
        }
        if record.confirmed_cents is not None:
            marker["confirmed_cents"] = {"N": str(record.confirmed_cents)}
        try:
            # One conditional write counts the event: a duplicate fails the condition and counts
            # nothing (one write unit, where a marker and a day counter in a transaction took four).
            self._client.put_item(
                TableName=self._table_name,
                Item=marker,
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if dynamodb.error_code(error) != "ConditionalCheckFailedException":
                raise  # throttling, an outage, ...: the record is retried
            existing = error.response.get("Item") or self._get_marker(record.event_id)
            return RecordResult(first_time=False, notified="notified_at" in existing)
        return RecordResult(first_time=True, notified=False)

    def day_counts(self, day: str) -> dict[str, int]:
        """A day's counts, ``{detail_type}_count`` per outcome and ``confirmed_cents``, from its events."""
        counts: dict[str, int] = {}
        pages = self._client.get_paginator("query").paginate(
            TableName=self._table_name,
            IndexName=BY_DAY_INDEX,
            KeyConditionExpression="#day = :day",
            ExpressionAttributeNames={"#day": "day"},
            ExpressionAttributeValues={":day": {"S": day}},
        )
        for page in pages:
            for item in page.get("Items", []):
                name = f"{item['detail_type']['S']}_count"
                counts[name] = counts.get(name, 0) + 1
                if "confirmed_cents" in item:
                    counts["confirmed_cents"] = counts.get("confirmed_cents", 0) + int(item["confirmed_cents"]["N"])
        return counts

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
