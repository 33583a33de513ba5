"""The choreographed order's status, projected from the other services' outcome events.

Every write is forward-only, so duplicates and late events change nothing, and events that
arrive out of order (PaymentCompleted before InventoryReserved) still converge. Announcing
terminal transitions is the outbox relay's job, not this one's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from orders.data.orders_repository import OrdersRepository
from orders.domain.models import StatusChange, Transition, utc_now
from orders.logic.status import advance
from orders.observability import logger
from shared.events import (
    Envelope,
    EventData,
    InventoryRejected,
    InventoryReserved,
    PaymentCompleted,
    PaymentFailed,
)
from shared.faults import injectable


def status_change_for(data: EventData) -> StatusChange | None:
    if isinstance(data, InventoryReserved):
        return StatusChange(status="RESERVED", total_cents=data.total_cents)
    if isinstance(data, InventoryRejected):
        return StatusChange(status="REJECTED", reason=data.reason or "OUT_OF_STOCK")
    if isinstance(data, PaymentCompleted):
        return StatusChange(status="CONFIRMED", tax_cents=data.tax_cents)
    if isinstance(data, PaymentFailed):
        return StatusChange(status="REJECTED", reason=data.reason)
    return None


class StatusProjection:
    def __init__(self, *, orders: OrdersRepository, clock: Callable[[], datetime] = utc_now) -> None:
        self._orders = orders
        self._clock = clock

    @injectable("orders", "project")
    def apply(self, envelope: Envelope, data: EventData) -> Transition | None:
        if envelope.metadata.flow != "choreographed":
            # The saga decides orchestrated orders; their events only report.
            logger.debug("orchestrated order event ignored by the projection")
            return None
        change = status_change_for(data)
        if change is None:
            return None
        # A missing order raises OrderNotFoundError: the message is retried, then parked in the DLQ.
        return advance(self._orders, data.order_id, change, self._clock)
