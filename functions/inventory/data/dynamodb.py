"""DynamoDB implementation of the inventory repository (the only module here using boto3).

Items: ``SKU#{sku}`` holds ``available``, ``reserved``, ``stocked`` and ``price_cents``;
``RES#{order_id}`` holds the reservation. Every stock movement is one TransactWriteItems so
``stocked = available + reserved`` holds after every committed write.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from inventory.domain.errors import (
    InsufficientStock,
    ReservationExists,
    ReservationNotActive,
    StockInvariantViolated,
    TooManyLines,
)
from inventory.domain.models import MAX_DISTINCT_SKUS, Reservation, ReservationState, StockItem
from shared.events import OrderLine

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _sku_key(sku: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}}


def _reservation_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"RES#{order_id}"}}


def _to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers arrive as Decimal; everything we store is an integer."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _stock_from_item(item: Mapping[str, Any]) -> StockItem:
    values = _from_item(item)
    return StockItem(
        sku=values["sku"],
        available=values["available"],
        reserved=values.get("reserved", 0),
        stocked=values.get("stocked", values["available"] + values.get("reserved", 0)),
        price_cents=values["price_cents"],
    )


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


def _cancellation_codes(error: ClientError) -> list[dict[str, Any]]:
    return list(error.response.get("CancellationReasons") or [])


def _is_transaction_cancelled(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "TransactionCanceledException"


def _is_condition_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoInventoryRepository:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self._table = table_name
        self._client = client or boto3.client("dynamodb")

    def get_stock(self, sku: str) -> StockItem | None:
        response = self._client.get_item(TableName=self._table, Key=_sku_key(sku), ConsistentRead=True)
        item = response.get("Item")
        return _stock_from_item(item) if item else None

    def set_stock(self, sku: str, available: int, price_cents: int) -> StockItem:
        # One UpdateItem computes stocked from the *current* reserved, so a concurrent
        # reservation can never be lost or double counted by a stock update.
        response = self._client.update_item(
            TableName=self._table,
            Key=_sku_key(sku),
            UpdateExpression=(
                "SET sku = :sku, available = :available, price_cents = :price, "
                "reserved = if_not_exists(reserved, :zero), "
                "stocked = if_not_exists(reserved, :zero) + :available"
            ),
            ExpressionAttributeValues={
                ":sku": {"S": sku},
                ":available": {"N": str(available)},
                ":price": {"N": str(price_cents)},
                ":zero": {"N": "0"},
            },
            ReturnValues="ALL_NEW",
        )
        return _stock_from_item(response["Attributes"])

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
                    "UpdateExpression": "SET available = available - :q, reserved = reserved + :q",
                    "ConditionExpression": "attribute_exists(pk) AND available >= :q",
                    "ExpressionAttributeValues": {":q": {"N": str(quantities[sku])}},
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
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if not _is_transaction_cancelled(error):
                raise
            reasons = _cancellation_codes(error)
            if len(reasons) == len(actions) and reasons[-1].get("Code") == "ConditionalCheckFailed":
                raise ReservationExists(reservation.order_id) from error
            for sku, reason in zip(skus, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise InsufficientStock(sku, known="Item" in reason) from error
            # TransactionConflict, throttling, ...: technical, the caller's retry handles it
            raise

    def record_decision(self, reservation: Reservation) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_reservation_to_item(reservation),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if _is_condition_failure(error):
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
                    "UpdateExpression": "SET available = available + :q, reserved = reserved - :q",
                    "ConditionExpression": "reserved >= :q",
                    "ExpressionAttributeValues": {":q": {"N": str(quantities[sku])}},
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
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if not _is_transaction_cancelled(error):
                raise
            reasons = _cancellation_codes(error)
            if len(reasons) == len(actions) and reasons[-1].get("Code") == "ConditionalCheckFailed":
                raise ReservationNotActive(reservation.order_id) from error
            for sku, reason in zip(skus, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise StockInvariantViolated(f"reserved of {sku!r} is below the reservation") from error
            raise
