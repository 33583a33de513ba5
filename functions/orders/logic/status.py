"""Forward-only status changes, shared by the saga tasks and the choreography projector."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from orders.data.orders_repository import OrdersRepository
from orders.domain.models import Order, StatusChange, Transition, iso
from orders.observability import count_order, logger, record_decision_time

Clock = Callable[[], datetime]


def _milliseconds_between(start: str, end: str) -> float:
    def parse(moment: str) -> datetime:
        return datetime.fromisoformat(moment.replace("Z", "+00:00"))

    return (parse(end) - parse(start)).total_seconds() * 1000


def record_new(orders: OrdersRepository, order: Order) -> Order | None:
    """Store a new order; None if it was created here, else the order already stored."""
    existing = orders.create(order)
    if existing is None:
        count_order("OrderPlaced", order.flow)
    return existing


def advance(
    orders: OrdersRepository, order_id: str, change: StatusChange, clock: Clock, *, overdue_before: str | None = None
) -> Transition:
    transition = orders.advance(order_id, change, iso(clock()), overdue_before=overdue_before)
    order = transition.order
    if transition.applied:
        logger.info("order status advanced", extra={"status": order.status, "reason": order.reason})
        # Counted where the conditional write succeeds: exactly once per order, whatever the retries.
        if order.is_terminal:
            record_decision_time(order.flow, _milliseconds_between(order.created_at, order.updated_at))
        if order.status == "CONFIRMED":
            count_order("OrderConfirmed", order.flow)
        elif order.status == "REJECTED":
            count_order("OrderRejected", order.flow, order.reason)
    else:
        logger.info(
            "status change not applied: order already at or past it",
            extra={"requested": change.status, "stored": order.status},
        )
    return transition
