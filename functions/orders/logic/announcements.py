"""The orders service's own events, built from the stored order so that a re-publication is identical.

Event ids come from (order, detail-type) and times from the order's own timestamps, so the
relay and the saga can re-announce after any retry and every consumer sees the same event.
"""

from __future__ import annotations

from datetime import datetime

from orders.domain.models import Order
from shared.events import Envelope, OrderConfirmed, OrderPlaced, OrderRejected, new_event


def _at(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def order_placed(order: Order) -> Envelope:
    data = OrderPlaced(
        order_id=order.order_id,
        customer_id=order.customer_id,
        items=order.items,
        total_cents=order.total_cents,
        payment_ref=order.travelling_ref(),
    )
    return new_event(data, correlation_id=order.correlation_id, flow=order.flow, time=_at(order.created_at))


def order_outcome(order: Order) -> Envelope:
    """OrderConfirmed or OrderRejected for an order in a terminal status."""
    if order.status == "CONFIRMED":
        data: OrderConfirmed | OrderRejected = OrderConfirmed(
            order_id=order.order_id, customer_id=order.customer_id, items=order.items, total_cents=order.total_cents
        )
    elif order.status == "REJECTED":
        data = OrderRejected(
            order_id=order.order_id, customer_id=order.customer_id, reason=order.reason or "INTERNAL_ERROR"
        )
    else:
        raise ValueError(f"order {order.order_id} is {order.status}, not terminal: nothing to announce")
    return new_event(data, correlation_id=order.correlation_id, flow=order.flow, time=_at(order.updated_at))
