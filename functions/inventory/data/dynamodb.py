"""DynamoDB implementation of the inventory repository (the only module here calling AWS).

Items: ``SKU#{sku}`` holds ``available``, ``reserved``, ``stocked``, ``price_cents`` and
``version``; ``RES#{order_id}`` holds the reservation; ``ADJ#{sku}#{key}`` records an applied
stock adjustment and the item it produced. Every stock movement is one conditional write (or
one TransactWriteItems) so ``stocked = available + reserved`` holds after every committed write.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from inventory.data import items
from inventory.domain.errors import (
    AdjustmentRecorded,
    InsufficientStock,
    PreconditionFailed,
    ReservationExists,
    ReservationNotActive,
    StockChanged,
    StockInvariantViolated,
    TooManyLines,
)
from inventory.domain.models import (
    MAX_DISTINCT_SKUS,
    AdjustmentRecord,
    Precondition,
    Reservation,
    ReservationState,
    StockItem,
)
from inventory.logic import ReservationContention
from shared import dynamodb

# Reserve and release move stock of every line in one transaction, so concurrent orders of a hot
# SKU meet there and DynamoDB cancels all but one with TransactionConflict. A few quick retries
# with full jitter absorb a burst; past them the caller's retry (the saga's, SQS's) takes over.
_CONFLICT_ATTEMPTS = 5
_CONFLICT_BASE_DELAY_S = 0.02
_CONFLICT_MAX_DELAY_S = 0.5


def _move_stock(client: Any, actions: list[dict[str, Any]], order_id: str) -> None:
    """One reserve/release transaction, retried on conflicts; ReservationContention when they persist."""
    for attempt in range(_CONFLICT_ATTEMPTS):
        try:
            client.transact_write_items(TransactItems=actions)
            return
        except ClientError as error:
            if not dynamodb.conflict_only(error):
                raise
            if attempt + 1 == _CONFLICT_ATTEMPTS:
                raise ReservationContention(order_id) from error
        time.sleep(random.uniform(0, min(_CONFLICT_MAX_DELAY_S, _CONFLICT_BASE_DELAY_S * 2**attempt)))


class DynamoInventoryRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or dynamodb.client()

    def get_stock(self, sku: str) -> StockItem | None:
        response = self._client.get_item(TableName=self._table, Key=items.sku_key(sku), ConsistentRead=True)
        item = response.get("Item")
        return items.stock_from_item(item) if item else None

    def set_stock(
        self, sku: str, available: int, price_cents: int, precondition: Precondition | None = None
    ) -> StockItem:
        # One UpdateItem computes stocked from the *current* reserved, so a concurrent
        # reservation can never be lost or double counted by a stock update; If-Match and
        # If-None-Match are its ConditionExpression, so no other write can slip in between.
        condition, condition_values = items.precondition(precondition or Precondition())
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": items.sku_key(sku),
            "UpdateExpression": (
                "SET sku = :sku, available = :available, price_cents = :price, "
                "reserved = if_not_exists(reserved, :zero), "
                "stocked = if_not_exists(reserved, :zero) + :available, "
                "#version = if_not_exists(#version, :zero) + :one"
            ),
            "ExpressionAttributeNames": {"#version": "version"},
            "ExpressionAttributeValues": {
                ":sku": {"S": sku},
                ":available": {"N": str(available)},
                ":price": {"N": str(price_cents)},
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
                **condition_values,
            },
            "ReturnValues": "ALL_NEW",
        }
        if condition is not None:
            request["ConditionExpression"] = condition
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        try:
            response = self._client.update_item(**request)
        except ClientError as error:
            if not dynamodb.error_code(error) == dynamodb.CONDITION_FAILED:
                raise
            old = error.response.get("Item")
            raise PreconditionFailed(
                sku=sku, current_version=items.stock_from_item(old).version if old else None
            ) from error
        return items.stock_from_item(response["Attributes"])

    def get_adjustment(self, sku: str, key: str) -> AdjustmentRecord | None:
        response = self._client.get_item(TableName=self._table, Key=items.adjustment_key(sku, key), ConsistentRead=True)
        item = response.get("Item")
        return items.adjustment_from_item(item) if item else None

    def apply_adjustment(self, record: AdjustmentRecord, expected: StockItem) -> None:
        """Write ``record.result`` over the stock item if it is still ``expected``, and record the
        adjustment under its key if the key is new: both, in one transaction, or neither.

        Raises AdjustmentRecorded if the key already has a record, StockChanged if the stock
        item is no longer ``expected`` (or another transaction was writing it).
        """
        result = record.result
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": items.sku_key(record.sku),
                    "UpdateExpression": "SET available = :available, stocked = :stocked, #version = :version",
                    "ConditionExpression": (
                        "attribute_exists(pk) AND available = :expected_available "
                        "AND reserved = :expected_reserved AND price_cents = :expected_price AND "
                        + items.version_condition(expected.version)
                    ),
                    "ExpressionAttributeNames": {"#version": "version"},
                    "ExpressionAttributeValues": {
                        ":available": {"N": str(result.available)},
                        ":stocked": {"N": str(result.available + expected.reserved)},
                        ":version": {"N": str(result.version)},
                        ":expected_available": {"N": str(expected.available)},
                        ":expected_reserved": {"N": str(expected.reserved)},
                        ":expected_price": {"N": str(expected.price_cents)},
                        ":expected_version": {"N": str(expected.version)},
                    },
                }
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": items.adjustment_to_item(record),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if dynamodb.error_code(error) != dynamodb.TRANSACTION_CANCELED:
                raise
            codes = dynamodb.cancellation_codes(error)
            if len(codes) == len(actions) and codes[1] == "ConditionalCheckFailed":
                raise AdjustmentRecorded(record.key) from error
            if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
                raise StockChanged(record.sku) from error
            raise

    def get_reservation(self, order_id: str) -> Reservation | None:
        response = self._client.get_item(
            TableName=self._table, Key=items.reservation_key(order_id), ConsistentRead=True
        )
        item = response.get("Item")
        return items.reservation_from_item(item) if item else None

    def create_reservation(self, reservation: Reservation, quantities: Mapping[str, int]) -> None:
        if len(quantities) > MAX_DISTINCT_SKUS:
            raise TooManyLines(f"{len(quantities)} distinct skus; at most {MAX_DISTINCT_SKUS} per order")
        self._move_lines(
            quantities,
            reserve=True,
            closing={
                "Put": {
                    "TableName": self._table,
                    "Item": items.reservation_to_item(reservation),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            order_id=reservation.order_id,
            closing_refused=ReservationExists(reservation.order_id),
            line_refused=lambda sku, reason: InsufficientStock(sku, known="Item" in reason),
        )

    def record_decision(self, reservation: Reservation) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=items.reservation_to_item(reservation),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if dynamodb.error_code(error) == dynamodb.CONDITION_FAILED:
                return False
            raise
        return True

    def release_reservation(self, reservation: Reservation, quantities: Mapping[str, int], now: str) -> None:
        self._move_lines(
            quantities,
            reserve=False,
            closing={
                "Update": {
                    "TableName": self._table,
                    "Key": items.reservation_key(reservation.order_id),
                    "UpdateExpression": "SET #state = :released, stock_returned = :true, updated_at = :now",
                    "ConditionExpression": "#state = :reserved",
                    "ExpressionAttributeNames": {"#state": "state"},
                    "ExpressionAttributeValues": {
                        ":released": {"S": ReservationState.RELEASED.value},
                        ":reserved": {"S": ReservationState.RESERVED.value},
                        ":true": {"BOOL": True},
                        ":now": {"S": now},
                    },
                }
            },
            order_id=reservation.order_id,
            closing_refused=ReservationNotActive(reservation.order_id),
            line_refused=lambda sku, _: StockInvariantViolated(f"reserved of {sku!r} is below the reservation"),
        )

    def _move_lines(
        self,
        quantities: Mapping[str, int],
        *,
        reserve: bool,
        closing: dict[str, Any],
        order_id: str,
        closing_refused: Exception,
        line_refused: Callable[[str, Mapping[str, Any]], Exception],
    ) -> None:
        """Move every line's quantity between available and reserved (``reserve``: to reserved)
        and write the reservation's ``closing`` action, in one transaction. A refused closing
        action raises ``closing_refused``; the first refused line, ``line_refused(sku, reason)``."""
        skus = list(quantities)
        actions = [self._line_move(sku, quantities[sku], reserve=reserve) for sku in skus]
        actions.append(closing)
        try:
            _move_stock(self._client, actions, order_id)
        except ClientError as error:
            if dynamodb.error_code(error) != dynamodb.TRANSACTION_CANCELED:
                raise
            reasons = list(error.response.get("CancellationReasons") or [])
            if len(reasons) == len(actions) and reasons[-1].get("Code") == "ConditionalCheckFailed":
                raise closing_refused from error
            for sku, reason in zip(skus, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise line_refused(sku, reason) from error
            # throttling, validation, ...: technical, the caller's retry handles it
            raise

    def _line_move(self, sku: str, quantity: int, *, reserve: bool) -> dict[str, Any]:
        take, give = ("-", "+") if reserve else ("+", "-")
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": items.sku_key(sku),
            # A reservation moves stock too: it bumps the version an If-Match PUT checks.
            "UpdateExpression": (
                f"SET available = available {take} :q, reserved = reserved {give} :q, "
                "#version = if_not_exists(#version, :zero) + :one"
            ),
            "ExpressionAttributeNames": {"#version": "version"},
            "ConditionExpression": "attribute_exists(pk) AND available >= :q" if reserve else "reserved >= :q",
            "ExpressionAttributeValues": {":q": {"N": str(quantity)}, ":zero": {"N": "0"}, ":one": {"N": "1"}},
        }
        if reserve:
            # Lets us tell an unknown SKU (no item returned) from one short of stock.
            update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return {"Update": update}
