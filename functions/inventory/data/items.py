"""The inventory table's items: keys, conversions to and from the domain, and the conditions of writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from inventory.domain.models import (
    AdjustmentRecord,
    Precondition,
    Reservation,
    ReservationState,
    StockItem,
)
from shared import dynamodb
from shared.events import OrderLine


def sku_key(sku: str) -> dict[str, Any]:
    return {"pk": {"S": f"SKU#{sku}"}}


def adjustment_key(sku: str, key: str) -> dict[str, Any]:
    # A sku never contains "#" (SKU_PATTERN), so the key part is unambiguous whatever it holds.
    return {"pk": {"S": f"ADJ#{sku}#{key}"}}


def reservation_key(order_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"RES#{order_id}"}}


to_item = dynamodb.to_item
from_item = dynamodb.from_item


def stock_from_item(item: Mapping[str, Any]) -> StockItem:
    values = from_item(item)
    return StockItem(
        sku=values["sku"],
        available=values["available"],
        reserved=values.get("reserved", 0),
        stocked=values.get("stocked", values["available"] + values.get("reserved", 0)),
        price_cents=values["price_cents"],
        version=values.get("version", 0),
    )


def stock_view(item: StockItem) -> dict[str, Any]:
    return asdict(item)


def adjustment_to_item(record: AdjustmentRecord) -> dict[str, Any]:
    return to_item(
        {
            "pk": f"ADJ#{record.sku}#{record.key}",
            "sku": record.sku,
            "idempotency_key": record.key,
            "delta": record.delta,
            "reason": record.reason,
            "request_hash": record.request_hash,
            "result": stock_view(record.result),
            "created_at": record.created_at,
        }
    )


def adjustment_from_item(item: Mapping[str, Any]) -> AdjustmentRecord:
    values = from_item(item)
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


def version_condition(version: int) -> str:
    """The stored version is ``version``; an item written before versions existed counts as 0."""
    return (
        "(#version = :expected_version OR attribute_not_exists(#version))"
        if version == 0
        else ("#version = :expected_version")
    )


def precondition(precondition: Precondition) -> tuple[str | None, dict[str, Any]]:
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


def reservation_to_item(reservation: Reservation) -> dict[str, Any]:
    return to_item(
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


def reservation_from_item(item: Mapping[str, Any]) -> Reservation:
    values = from_item(item)
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
