"""DynamoDB implementation of the inventory repository (the only module here calling AWS).

Items: ``SKU#{sku}`` holds ``available``, ``reserved``, ``stocked``, ``price_cents`` and
``version``; ``RES#{order_id}`` holds the reservation; ``ADJ#{sku}#{key}`` records an applied
stock adjustment and the item it produced. Every stock movement is one conditional write (or
one TransactWriteItems) so ``stocked = available + reserved`` holds after every committed write.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

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
from shared.events import OrderLine


def _sku_key(sku: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}}


def _adjustment_key(sku: str, key: str) -> dict[str, Any]:
    # A sku never contains "#" (SKU_PATTERN), so the key part is unambiguous whatever it holds.
    return {"pk": {"S": f"ADJ#{sku}#{key}"}}


def _reservation_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"RES#{order_id}"}}


_to_item = dynamodb.to_item
_from_item = dynamodb.from_item


def _stock_from_item(item: Mapping[str, Any]) -> StockItem:
    values = _from_item(item)
    return StockItem(
        sku=values["sku"],
        available=values["available"],
        reserved=values.get("reserved", 0),
        stocked=values.get("stocked", values["available"] + values.get("reserved", 0)),
        price_cents=values["price_cents"],
        version=values.get("version", 0),
    )


def _stock_view(item: StockItem) -> dict[str, Any]:
    return {
        "sku": item.sku,
        "available": item.available,
        "reserved": item.reserved,
        "stocked": item.stocked,
        "price_cents": item.price_cents,
        "version": item.version,
    }


def _adjustment_to_item(record: AdjustmentRecord) -> dict[str, Any]:
    return _to_item(
        {
            "pk": f"ADJ#{record.sku}#{record.key}",
            "sku": record.sku,
            "idempotency_key": record.key,
            "delta": record.delta,
            "reason": record.reason,
            "request_hash": record.request_hash,
            "result": _stock_view(record.result),
            "created_at": record.created_at,
        }
    )


def _adjustment_from_item(item: Mapping[str, Any]) -> AdjustmentRecord:
    values = _from_item(item)
    result = values["result"]
    return AdjustmentRecord(
        sku=values["sku"],
        key=values["idempotency_key"],
        delta=values["delta"],
        reason=values.get("reason"),
        request_hash=values["request_hash"],
        result=StockItem(**result),
        created_at=values["created_at"],
    )


def _version_condition(version: int) -> str:
    """The stored version is ``version``; an item written before versions existed counts as 0."""
    return (
        "(#version = :expected_version OR attribute_not_exists(#version))"
        if version == 0
        else ("#version = :expected_version")
    )


def _precondition(precondition: Precondition) -> tuple[str | None, dict[str, Any]]:
    """A ConditionExpression (and its values) for If-Match / If-None-Match, or None when unconditional."""
    clauses: list[str] = []
    values: dict[str, Any] = {}
    if precondition.must_not_exist:
        clauses.append("attribute_not_exists(pk)")
    if precondition.must_exist or precondition.versions is not None:
        clauses.append("attribute_exists(pk)")
    if precondition.versions is not None:
        versions = sorted(precondition.versions)
        if not versions:
            clauses.append("attribute_not_exists(pk)")  # only weak tags: never matches
        else:
            names = [f":if_match_{index}" for index in range(len(versions))]
            values = {name: {"N": str(version)} for name, version in zip(names, versions, strict=True)}
            listed = f"#version IN ({', '.join(names)})" if len(names) > 1 else f"#version = {names[0]}"
            clauses.append(f"({listed} OR attribute_not_exists(#version))" if 0 in versions else listed)
    if precondition.excluded_versions:
        excluded = sorted(precondition.excluded_versions)
        names = [f":if_none_match_{index}" for index in range(len(excluded))]
        values.update({name: {"N": str(version)} for name, version in zip(names, excluded, strict=True)})
        listed = f"#version IN ({', '.join(names)})" if len(names) > 1 else f"#version = {names[0]}"
        at_excluded = f"({listed} OR attribute_not_exists(#version))" if 0 in excluded else listed
        clauses.append(f"(attribute_not_exists(pk) OR NOT {at_excluded})")
    return (" AND ".join(clauses) if clauses else None), values


def _reservation_to_item(reservation: Reservation) -> dict[str, Any]:
    return _to_item(
        {
            "pk": f"RES#{reservation.order_id}",
            "order_id": reservation.order_id,
            "state": reservation.state.value,
            "lines": [line.model_dump() for line in reservation.lines],
            "total_cents": reservation.total_cents,
            "customer_id": reservation.customer_id,
            "reason": reservation.reason,
            "sku": reservation.sku,
            "stock_returned": reservation.stock_returned,
            "created_at": reservation.created_at,
            "updated_at": reservation.updated_at,
        }
    )


def _reservation_from_item(item: Mapping[str, Any]) -> Reservation:
    values = _from_item(item)
    return Reservation(
        order_id=values["order_id"],
        state=ReservationState(values["state"]),
        lines=tuple(OrderLine.model_validate(line) for line in values.get("lines", [])),
        total_cents=values.get("total_cents", 0),
        customer_id=values.get("customer_id"),
        reason=values.get("reason"),
        sku=values.get("sku"),
        stock_returned=bool(values.get("stock_returned", False)),
        created_at=values.get("created_at"),
        updated_at=values.get("updated_at"),
    )


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
        response = self._client.get_item(TableName=self._table, Key=_sku_key(sku), ConsistentRead=True)
        item = response.get("Item")
        return _stock_from_item(item) if item else None

    def set_stock(
        self, sku: str, available: int, price_cents: int, precondition: Precondition | None = None
    ) -> StockItem:
        # One UpdateItem computes stocked from the *current* reserved, so a concurrent
        # reservation can never be lost or double counted by a stock update; If-Match and
        # If-None-Match are its ConditionExpression, so no other write can slip in between.
        condition, condition_values = _precondition(precondition or Precondition())
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": _sku_key(sku),
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
            raise PreconditionFailed(sku, _stock_from_item(old).version if old else None) from error
        return _stock_from_item(response["Attributes"])

    def get_adjustment(self, sku: str, key: str) -> AdjustmentRecord | None:
        response = self._client.get_item(TableName=self._table, Key=_adjustment_key(sku, key), ConsistentRead=True)
        item = response.get("Item")
        return _adjustment_from_item(item) if item else None

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
                    "Key": _sku_key(record.sku),
                    "UpdateExpression": "SET available = :available, stocked = :stocked, #version = :version",
                    "ConditionExpression": (
                        "attribute_exists(pk) AND available = :expected_available "
                        "AND reserved = :expected_reserved AND price_cents = :expected_price AND "
                        + _version_condition(expected.version)
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
                    "Item": _adjustment_to_item(record),
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
        response = self._client.get_item(TableName=self._table, Key=_reservation_key(order_id), ConsistentRead=True)
        item = response.get("Item")
        return _reservation_from_item(item) if item else None

    def create_reservation(self, reservation: Reservation, quantities: Mapping[str, int]) -> None:
        if len(quantities) > MAX_DISTINCT_SKUS:
            raise TooManyLines(f"{len(quantities)} distinct skus; at most {MAX_DISTINCT_SKUS} per order")
        skus = list(quantities)
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _sku_key(sku),
                    # A reservation moves stock too: it bumps the version an If-Match PUT checks.
                    "UpdateExpression": (
                        "SET available = available - :q, reserved = reserved + :q, "
                        "#version = if_not_exists(#version, :zero) + :one"
                    ),
                    "ExpressionAttributeNames": {"#version": "version"},
                    "ConditionExpression": "attribute_exists(pk) AND available >= :q",
                    "ExpressionAttributeValues": {
                        ":q": {"N": str(quantities[sku])},
                        ":zero": {"N": "0"},
                        ":one": {"N": "1"},
                    },
                    # Lets us tell an unknown SKU (no item returned) from one short of stock.
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
            for sku in skus
        ]
        actions.append(
            {
                "Put": {
                    "TableName": self._table,
                    "Item": _reservation_to_item(reservation),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        )
        try:
            _move_stock(self._client, actions, reservation.order_id)
        except ClientError as error:
            if dynamodb.error_code(error) != dynamodb.TRANSACTION_CANCELED:
                raise
            reasons = list(error.response.get("CancellationReasons") or [])
            if len(reasons) == len(actions) and reasons[-1].get("Code") == "ConditionalCheckFailed":
                raise ReservationExists(reservation.order_id) from error
            for sku, reason in zip(skus, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise InsufficientStock(sku, known="Item" in reason) from error
            # throttling, validation, ...: technical, the caller's retry handles it
            raise

    def record_decision(self, reservation: Reservation) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_reservation_to_item(reservation),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if dynamodb.error_code(error) == dynamodb.CONDITION_FAILED:
                return False
            raise
        return True

    def release_reservation(self, reservation: Reservation, quantities: Mapping[str, int], now: str) -> None:
        skus = list(quantities)
        actions: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _sku_key(sku),
                    # A reservation moves stock too: it bumps the version an If-Match PUT checks.
                    "UpdateExpression": (
                        "SET available = available + :q, reserved = reserved - :q, "
                        "#version = if_not_exists(#version, :zero) + :one"
                    ),
                    "ExpressionAttributeNames": {"#version": "version"},
                    "ConditionExpression": "reserved >= :q",
                    "ExpressionAttributeValues": {
                        ":q": {"N": str(quantities[sku])},
                        ":zero": {"N": "0"},
                        ":one": {"N": "1"},
                    },
                }
            }
            for sku in skus
        ]
        actions.append(
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _reservation_key(reservation.order_id),
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
            }
        )
        try:
            _move_stock(self._client, actions, reservation.order_id)
        except ClientError as error:
            if dynamodb.error_code(error) != dynamodb.TRANSACTION_CANCELED:
                raise
            reasons = list(error.response.get("CancellationReasons") or [])
            if len(reasons) == len(actions) and reasons[-1].get("Code") == "ConditionalCheckFailed":
                raise ReservationNotActive(reservation.order_id) from error
            for sku, reason in zip(skus, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise StockInvariantViolated(f"reserved of {sku!r} is below the reservation") from error
            raise
