"""The orders steps of the orchestrated saga: record, confirm, reject, announce.

Business outcomes are results; only technical failures raise, so the state machine's
Retry/Catch deal with faults and its Choice states with decisions.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from orders.data.event_bus import EventBus
from orders.data.orders_repository import OrdersRepository
from orders.domain import Order, OrderConflictError, OrderNotFoundError, StatusChange, utc_now
from orders.logic.announcements import order_outcome
from orders.logic.status import advance, record_new
from shared.faults import injectable


def _result(order: Order) -> dict[str, Any]:
    result: dict[str, Any] = {"status": order.status}
    if order.reason:
        result["reason"] = order.reason
    return result


def _decided(order: Order) -> dict[str, Any]:
    """The result of confirm/reject, with the announcement the saga's PutEvents step publishes."""
    result = _result(order)
    if order.status in ("CONFIRMED", "REJECTED"):
        event = order_outcome(order)
        result["announcement"] = {"detail_type": event.detail_type, "detail": event.detail()}
    return result


class SagaTasks:
    def __init__(self, *, orders: OrdersRepository, bus: EventBus, clock: Callable[[], datetime] = utc_now) -> None:
        self._orders = orders
        self._bus = bus
        self._clock = clock

    @injectable("orders", "record")
    def record(self, order: Order) -> dict[str, Any]:
        """Store the order as PENDING; a retried step gets the stored order's status back."""
        existing = record_new(self._orders, order)
        if existing is None:
            return {"status": "PENDING"}
        if not (
            existing.same_request(order) and existing.items == order.items and existing.total_cents == order.total_cents
        ):
            raise OrderConflictError(f"order {order.order_id} already exists with different content")
        return _result(existing)

    @injectable("orders", "confirm")
    def confirm(self, order_id: str, tax_cents: int | None = None) -> dict[str, Any]:
        """CONFIRMED, unless the order is already terminal: then its stored status (never flipped)."""
        transition = advance(self._orders, order_id, StatusChange(status="CONFIRMED", tax_cents=tax_cents), self._clock)
        return _decided(transition.order)

    @injectable("orders", "reject")
    def reject(self, order_id: str, reason: str) -> dict[str, Any]:
        transition = advance(self._orders, order_id, StatusChange(status="REJECTED", reason=reason), self._clock)
        return _decided(transition.order)

    @injectable("orders", "announce")
    def announce(self, order_id: str) -> dict[str, Any]:
        """Publish OrderConfirmed/OrderRejected for the stored terminal status (same event id on every retry)."""
        order = self._orders.get(order_id)
        if order is None:
            raise OrderNotFoundError(order_id)
        event = order_outcome(order)
        self._bus.publish([event])
        return {**_result(order), "detail_type": event.detail_type, "event_id": event.metadata.event_id}
