"""Reading an order and its timeline for the API."""

from __future__ import annotations

from orders.data.orders_repository import OrdersRepository
from orders.data.timeline_repository import TimelineRepository
from orders.domain.errors import OrderNotFoundError
from orders.domain.models import Order, TimelineEntry
from shared.faults import injectable

_MAX_ORDER_ID = 128  # longer than any id we issue; also keeps DynamoDB's key size limit out of reach


class OrderQueries:
    def __init__(self, *, orders: OrdersRepository, timeline: TimelineRepository) -> None:
        self._orders = orders
        self._timeline = timeline

    @injectable("orders", "get_order")
    def get_order(self, order_id: str) -> Order:
        order = self._orders.get(order_id) if len(order_id) <= _MAX_ORDER_ID else None
        if order is None:
            raise OrderNotFoundError(order_id=order_id)
        return order

    @injectable("orders", "get_timeline")
    def get_timeline(self, order_id: str) -> list[TimelineEntry]:
        if len(order_id) > _MAX_ORDER_ID:
            raise OrderNotFoundError(order_id=order_id)
        entries = self._timeline.list(order_id)
        if not entries and self._orders.get(order_id) is None:
            raise OrderNotFoundError(order_id=order_id)
        return deduplicated(entries)


def deduplicated(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """Oldest first, one entry per event id.

    Redeliveries of one event are dropped at write time (same key); a producer that re-announces
    after a retry keeps the event id but may stamp a new time, which only the id can recognise.
    """
    seen: set[str] = set()
    unique: list[TimelineEntry] = []
    for entry in sorted(entries, key=lambda e: e.event_key):
        if entry.event_id not in seen:
            seen.add(entry.event_id)
            unique.append(entry)
    return unique
