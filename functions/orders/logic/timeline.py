"""The per-order timeline: every orderflow event, summarised without personal or payment data."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from orders.data.timeline_repository import TimelineRepository
from orders.domain.models import TimelineEntry, iso
from shared.events import Envelope, EventData
from shared.faults import injectable

# An allow-list, not a deny-list: a new field in an event stays out until someone decides it is safe.
_SUMMARY_FIELDS = ("reason", "sku", "total_cents", "amount_cents", "tax_cents", "shipment_id")
_STATUS_OF = {"OrderPlaced": "PENDING", "OrderConfirmed": "CONFIRMED", "OrderRejected": "REJECTED"}


def summary_of(detail_type: str, data: EventData) -> dict[str, Any]:
    values = data.model_dump(mode="json")
    summary: dict[str, Any] = {}
    if detail_type in _STATUS_OF:
        summary["status"] = _STATUS_OF[detail_type]
    for name in _SUMMARY_FIELDS:
        if values.get(name) is not None:
            summary[name] = values[name]
    items = values.get("items")
    if isinstance(items, list):
        summary["lines"] = len(items)
        summary["units"] = sum(int(line.get("quantity", 0)) for line in items)
    return summary


def timeline_entry(envelope: Envelope, data: EventData) -> TimelineEntry:
    metadata = envelope.metadata
    moment = metadata.time if metadata.time.tzinfo else metadata.time.replace(tzinfo=UTC)
    time_iso = iso(moment)
    return TimelineEntry(
        order_id=metadata.order_id,
        event_key=f"{time_iso}#{metadata.event_id}",
        event_id=metadata.event_id,
        source=envelope.source,
        detail_type=envelope.detail_type,
        time=time_iso,
        correlation_id=metadata.correlation_id,
        flow=metadata.flow,
        summary=summary_of(envelope.detail_type, data),
    )


class TimelineRecorder:
    def __init__(self, *, timeline: TimelineRepository) -> None:
        self._timeline = timeline

    @injectable("orders", "timeline")
    def record(self, envelope: Envelope, data: EventData) -> bool:
        """True if stored, False for a redelivery of an event already on the timeline."""
        return self._timeline.add(timeline_entry(envelope, data))
