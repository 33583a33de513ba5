"""The orders steps of the orchestrated saga: record, confirm (the pivot) and reject.

Business outcomes are results; only technical failures raise, so the state machine's
Retry/Catch deal with faults and its Choice states with decisions. Each answers with the
stored order's status, reason and tax, whatever this call changed: a retried or duplicated
step, or a confirm and a reject racing, all read the one decision the table holds. The
outcome's announcement is not a saga step: the orders table's outbox relay publishes it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from orders.data.orders_repository import OrdersRepository
from orders.domain.errors import OrderConflictError
from orders.domain.models import Order, StatusChange, utc_now
from orders.logic.status import advance, record_new
from shared.faults import injectable


def _result(order: Order) -> dict[str, Any]:
    """The stored decision; every key is always present, so the saga's end states can read it."""
    return {"status": order.status, "reason": order.reason, "tax_cents": order.tax_cents}


class SagaTasks:
    def __init__(self, *, orders: OrdersRepository, clock: Callable[[], datetime] = utc_now) -> None:
        self._orders = orders
        self._clock = clock

    @injectable("orders", "record")
    def record(self, order: Order) -> dict[str, Any]:
        """Store the order as PENDING; a retried step gets the stored order's status back."""
        existing = record_new(self._orders, order)
        if existing is None:
            return _result(order)
        if not (
            existing.same_request(order) and existing.items == order.items and existing.total_cents == order.total_cents
        ):
            raise OrderConflictError(f"order {order.order_id} already exists with different content")
        return _result(existing)

    @injectable("orders", "confirm")
    def confirm(self, order_id: str, tax_cents: int | None = None) -> dict[str, Any]:
        """The pivot: CONFIRMED unless already terminal; then the stored status (never flipped)."""
        transition = advance(self._orders, order_id, StatusChange(status="CONFIRMED", tax_cents=tax_cents), self._clock)
        return _result(transition.order)

    @injectable("orders", "reject")
    def reject(self, order_id: str, reason: str) -> dict[str, Any]:
        """Make the rejection durable unless the order was confirmed; answers the stored decision."""
        transition = advance(self._orders, order_id, StatusChange(status="REJECTED", reason=reason), self._clock)
        return _result(transition.order)
