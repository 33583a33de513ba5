"""Per-order event timeline in the order events table."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from orders.domain.models import TimelineEntry
from shared.dynamodb import condition_failed, plain, table


class TimelineRepository(ABC):
    @abstractmethod
    def add(self, entry: TimelineEntry) -> bool:
        """Store an entry; False if that exact entry was already there."""

    @abstractmethod
    def list(self, order_id: str) -> list[TimelineEntry]:
        """Entries of one order, oldest first."""


class DynamoDBTimelineRepository(TimelineRepository):
    def __init__(self, table_name: str, resource: Any | None = None) -> None:
        self._table = table(table_name, resource)

    def add(self, entry: TimelineEntry) -> bool:
        try:
            self._table.put_item(
                Item=entry.model_dump(mode="json"),
                ConditionExpression="attribute_not_exists(event_key)",
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def list(self, order_id: str) -> list[TimelineEntry]:
        query: dict[str, Any] = {"KeyConditionExpression": Key("order_id").eq(order_id), "ScanIndexForward": True}
        entries: list[TimelineEntry] = []
        while True:
            response = self._table.query(**query)
            entries.extend(TimelineEntry.model_validate(plain(item)) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return entries
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
