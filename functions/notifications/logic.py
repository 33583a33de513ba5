"""Turning order outcomes into a customer notification and analytics counters."""

from __future__ import annotations

from datetime import UTC, datetime

from notifications.data.repository import AnalyticsRepository, Notifier
from notifications.domain.models import Notification, OutcomeRecord
from notifications.observability import logger, metrics, tracer
from shared import faults
from shared.events import EventData, EventMetadata, OrderConfirmed, OrderRejected, ShipmentScheduled
from shared.observability import count

# Rejection reasons are free text in the contract; only known ones are explained to a customer.
_REJECTION_TEXT = {
    "OUT_OF_STOCK": "an item is out of stock",
    "UNKNOWN_SKU": "an item is not available",
    "PAYMENT_DECLINED": "the payment was declined",
    "PAYMENT_UNAVAILABLE": "the payment could not be processed",
}
NOTIFIED_EVENTS = (OrderConfirmed, OrderRejected, ShipmentScheduled)


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def describe(data: EventData) -> str:
    """A short text for the customer, built only from fields that are safe to show."""
    if isinstance(data, OrderConfirmed):
        count = sum(line.quantity for line in data.items)
        noun = "item" if count == 1 else "items"
        return f"Your order {data.order_id} is confirmed: {count} {noun}, total {_amount(data.total_cents)}."
    if isinstance(data, OrderRejected):
        why = _REJECTION_TEXT.get(data.reason, "it could not be completed")
        return f"We could not accept your order {data.order_id}: {why}."
    if isinstance(data, ShipmentScheduled):
        return f"Your order {data.order_id} is scheduled for shipment ({data.shipment_id})."
    raise TypeError(f"no notification for {data.DETAIL_TYPE}")


def build_notification(metadata: EventMetadata, data: EventData) -> Notification:
    return Notification(type=data.DETAIL_TYPE, order_id=data.order_id, event_id=metadata.event_id, text=describe(data))


def build_record(metadata: EventMetadata, data: EventData) -> OutcomeRecord:
    # The day is the event's own time, not the processing time: a retry tomorrow counts today.
    moment = metadata.time if metadata.time.tzinfo else metadata.time.replace(tzinfo=UTC)
    return OutcomeRecord(
        event_id=metadata.event_id,
        detail_type=data.DETAIL_TYPE,
        order_id=data.order_id,
        day=moment.astimezone(UTC).date(),
        confirmed_cents=data.total_cents if isinstance(data, OrderConfirmed) else None,
    )


@tracer.capture_method(capture_response=False)
@faults.injectable("notifications", "notify")
def handle_outcome(
    metadata: EventMetadata, data: EventData, *, analytics: AnalyticsRepository, notifier: Notifier
) -> bool:
    """Count the outcome once and notify the customer once-ish; returns whether a notification went out.

    Analytics first, then the notification, then a ``notified`` mark. A retry after a failed
    publish finds the mark missing and publishes; only a crash between publish and mark sends
    a second copy, which subscribers drop by ``event_id``.
    """
    notification = build_notification(metadata, data)  # before any write: an unsupported event changes nothing
    result = analytics.record_outcome(build_record(metadata, data))
    if not result.first_time:
        count(metrics, "DuplicateEvent")
        if result.notified:
            logger.info("duplicate event; already counted and notified")
            return False
        logger.info("duplicate event; already counted, notification still pending")
    notifier.publish(notification)
    analytics.mark_notified(metadata.event_id, datetime.now(UTC))
    count(metrics, "NotificationSent")
    logger.info("customer notified", extra={"notification_type": notification.type})
    return True
