"""The transactional outbox: turn changes of the orders table into the orders service's events."""

from __future__ import annotations

from orders.data.event_bus import EventBus
from orders.domain.models import TERMINAL, Order
from orders.logic.announcements import order_outcome, order_placed
from shared.events import Envelope
from shared.faults import injectable


def announcements(change: str, old: Order | None, new: Order | None) -> list[Envelope]:
    """Events owed for one stream record (INSERT / MODIFY / REMOVE)."""
    if new is None:
        return []
    if change == "INSERT":
        # Both flows: the orchestrated order's OrderPlaced feeds the timeline; rules keep it out of the dance.
        return [order_placed(new)]
    # Every terminal transition, whichever flow decided it: the decision and its announcement
    # are one write, so a CONFIRMED order always ships and a REJECTED one is always compensated.
    changed = old is None or old.status != new.status
    if change == "MODIFY" and new.status in TERMINAL and changed:
        return [order_outcome(new)]
    return []


class OutboxRelay:
    def __init__(self, *, bus: EventBus) -> None:
        self._bus = bus

    @injectable("orders", "relay")
    def relay(self, change: str, old: Order | None, new: Order | None) -> list[Envelope]:
        events = announcements(change, old, new)
        self._bus.publish(events)
        return events
