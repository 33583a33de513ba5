"""Where orders live: the orders table (its stream is the outbox, see outbox_relay)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from botocore.exceptions import ClientError

from orders.domain.errors import OrderNotFoundError
from orders.domain.models import STATUS_RANK, TERMINAL, Order, StatusChange, Transition
from shared.dynamodb import condition_failed, from_item, plain, table

# The sparse index of undecided orders by deadline (cdk/orders.py), read by the reconciler.
UNDECIDED_INDEX = "undecided-by-deadline"


class OrdersRepository(ABC):
    @abstractmethod
    def create(self, order: Order) -> Order | None:
        """Store a new order; returns None if created, or the order already stored under its id."""

    @abstractmethod
    def get(self, order_id: str) -> Order | None: ...

    @abstractmethod
    def advance(
        self, order_id: str, change: StatusChange, now: str, *, overdue_before: str | None = None
    ) -> Transition:
        """Apply ``change`` only if the stored status ranks lower; raises OrderNotFoundError.

        With ``overdue_before`` (the reconciler), only if the order's deadline is earlier than it,
        and the order stays in the undecided index until ``settle`` (its compensation is owed)."""

    @abstractmethod
    def settle(self, order_id: str) -> None:
        """Take a decided order out of the undecided index."""

    @abstractmethod
    def claim(self, order_id: str, now: str, until: str) -> bool:
        """Take the order's saga lease until ``until`` if it is undecided and its lease ran out."""

    @abstractmethod
    def release(self, order_id: str, until: str, now: str) -> bool:
        """Give back the lease taken until ``until`` (its execution never started)."""

    @abstractmethod
    def overdue(self, shard: str, now: str, limit: int) -> list[Order]:
        """Undecided orders of one index shard whose deadline is earlier than ``now``."""


def order_to_item(order: Order) -> dict[str, Any]:
    return order.model_dump(mode="json", exclude_none=True)


def order_from_item(item: dict[str, Any]) -> Order:
    return Order.model_validate(plain(item))


def _refused_by(error: ClientError) -> Order | None:
    """The stored order a conditional write was refused by (its ALL_OLD), None if there was none;
    any failure other than the condition's is raised again."""
    if not condition_failed(error):
        raise error
    existing = error.response.get("Item")
    return order_from_item(from_item(existing)) if existing else None


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
            found = _refused_by(error) or self.get(order.order_id)
            if found is None:  # deleted between the two calls: nothing we can safely decide
                raise
            return found
        return None

    def get(self, order_id: str) -> Order | None:
        item = self._table.get_item(Key={"order_id": order_id}, ConsistentRead=True).get("Item")
        return order_from_item(item) if item else None

    def advance(
        self, order_id: str, change: StatusChange, now: str, *, overdue_before: str | None = None
    ) -> Transition:
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
        update = "SET " + ", ".join(sets)
        if change.status in TERMINAL and overdue_before is None:
            names["#undecided"] = "undecided"
            update += " REMOVE #undecided"
        # The whole forward-only rule is this one condition.
        condition = "attribute_exists(order_id) AND #rank < :rank"
        if overdue_before is not None:
            names["#deadline"] = "deadline"
            values[":overdue"] = overdue_before
            condition += " AND #deadline < :overdue"
        try:
            response = self._table.update_item(
                Key={"order_id": order_id},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            stored = _refused_by(error)
            if stored is None:
                raise OrderNotFoundError(order_id=order_id) from error
            return Transition(applied=False, order=stored)
        return Transition(applied=True, order=order_from_item(response["Attributes"]))

    def settle(self, order_id: str) -> None:
        self._table.update_item(
            Key={"order_id": order_id},
            UpdateExpression="REMOVE #undecided",
            ConditionExpression="attribute_exists(order_id)",
            ExpressionAttributeNames={"#undecided": "undecided"},
        )

    def claim(self, order_id: str, now: str, until: str) -> bool:
        return self._set_deadline(
            order_id,
            until,
            "attribute_exists(order_id) AND #rank < :terminal"
            " AND (attribute_not_exists(#deadline) OR #deadline < :now)",
            {":now": now, ":terminal": STATUS_RANK["CONFIRMED"]},
        )

    def release(self, order_id: str, until: str, now: str) -> bool:
        return self._set_deadline(order_id, now, "#deadline = :held", {":held": until})

    def _set_deadline(self, order_id: str, deadline: str, condition: str, values: dict[str, Any]) -> bool:
        names = {"#deadline": "deadline"}
        if ":terminal" in values:
            names["#rank"] = "status_rank"
        try:
            self._table.update_item(
                Key={"order_id": order_id},
                UpdateExpression="SET #deadline = :deadline",
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={":deadline": deadline, **values},
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def overdue(self, shard: str, now: str, limit: int) -> list[Order]:
        response = self._table.query(
            IndexName=UNDECIDED_INDEX,
            KeyConditionExpression="#undecided = :shard AND #deadline < :now",
            ExpressionAttributeNames={"#undecided": "undecided", "#deadline": "deadline"},
            ExpressionAttributeValues={":shard": shard, ":now": now},
            Limit=limit,
        )
        return [order_from_item(item) for item in response.get("Items", [])]
