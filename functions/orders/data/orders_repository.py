"""Where orders live: the orders table (its stream is the outbox, see outbox_relay)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from botocore.exceptions import ClientError

from orders.data._dynamodb import condition_failed, from_wire, plain, table
from orders.domain import Order, OrderNotFoundError, StatusChange, Transition


class OrdersRepository(ABC):
    @abstractmethod
    def create(self, order: Order) -> Order | None:
        """Store a new order; returns None if created, or the order already stored under its id."""

    @abstractmethod
    def get(self, order_id: str) -> Order | None: ...

    @abstractmethod
    def advance(self, order_id: str, change: StatusChange, now: str) -> Transition:
        """Apply ``change`` only if the stored status ranks lower; raises OrderNotFoundError."""


def order_to_item(order: Order) -> dict[str, Any]:
    return order.model_dump(mode="json", exclude_none=True)


def order_from_item(item: dict[str, Any]) -> Order:
    return Order.model_validate(plain(item))


class DynamoDBOrdersRepository(OrdersRepository):
    def __init__(self, table_name: str, resource: Any | None = None) -> None:
        self._table = table(table_name, resource)

    def create(self, order: Order) -> Order | None:
        try:
            self._table.put_item(
                Item=order_to_item(order),
                ConditionExpression="attribute_not_exists(order_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not condition_failed(error):
                raise
            existing = error.response.get("Item")
            found = order_from_item(from_wire(existing)) if existing else self.get(order.order_id)
            if found is None:  # deleted between the two calls: nothing we can safely decide
                raise
            return found
        return None

    def get(self, order_id: str) -> Order | None:
        item = self._table.get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item")
        return order_from_item(item) if item else None

    def advance(self, order_id: str, change: StatusChange, now: str) -> Transition:
        names = {"#status": "status", "#rank": "status_rank", "#updated": "updated_at"}
        values: dict[str, Any] = {":status": change.status, ":rank": change.rank, ":now": now}
        sets = ["#status = :status", "#rank = :rank", "#updated = :now"]
        for attribute, value in (
            ("reason", change.reason),
            ("total_cents", change.total_cents),
            ("tax_cents", change.tax_cents),
        ):
            if value is not None:
                names[f"#{attribute}"] = attribute
                values[f":{attribute}"] = value
                sets.append(f"#{attribute} = :{attribute}")
        try:
            response = self._table.update_item(
                Key={"order_id": order_id},
                UpdateExpression="SET " + ", ".join(sets),
                # The whole forward-only rule is this one condition.
                ConditionExpression="attribute_exists(order_id) AND #rank < :rank",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not condition_failed(error):
                raise
            existing = error.response.get("Item")
            if not existing:
                raise OrderNotFoundError(order_id) from error
            return Transition(applied=False, order=order_from_item(from_wire(existing)))
        return Transition(applied=True, order=order_from_item(response["Attributes"]))
