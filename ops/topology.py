"""Which queues the system has and what a message in each of its dead-letter queues means.

Names are those of `OrderflowStack.dead_letter_queues()`; a test holds the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DeadLetterKind(StrEnum):
    # A consumer queue's redrive target: the message is an EventBridge event its consumer failed 5 times.
    CONSUMER = "consumer"
    # EventBridge's target DLQ: the body is the event, attributes name the rule and target.
    EVENT_DELIVERY = "event-delivery"
    # The saga parked an announcement PutEvents refused: {"source", "detail_type", "detail"}.
    ANNOUNCEMENT = "announcement"
    # The relay's on-failure destination: a pointer (DDBStreamBatchInfo) to stream records.
    STREAM_BATCH = "stream-batch"


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str
    prefix: str  # logical-id prefix of the DLQ
    kind: DeadLetterKind
    source_prefix: str | None = None  # consumer queue the DLQ belongs to

    @property
    def destination(self) -> str:
        return {
            DeadLetterKind.CONSUMER: f"its source queue ({self.source_prefix})",
            DeadLetterKind.EVENT_DELIVERY: "the queue named by TARGET_ARN, else the bus",
            DeadLetterKind.ANNOUNCEMENT: "the bus (PutEvents)",
            DeadLetterKind.STREAM_BATCH: "orders-relay, with the records read back from the stream",
        }[self.kind]


def _consumer(name: str, construct: str) -> DeadLetterQueue:
    return DeadLetterQueue(name, f"{construct}DeadLetterQueue", DeadLetterKind.CONSUMER, f"{construct}Queue")


DEAD_LETTER_QUEUES: dict[str, DeadLetterQueue] = {
    dlq.name: dlq
    for dlq in (
        DeadLetterQueue("event-delivery", "EventBusDeliveryDeadLetterQueue", DeadLetterKind.EVENT_DELIVERY),
        DeadLetterQueue("saga-announcements", "OrderSagaAnnouncementDeadLetterQueue", DeadLetterKind.ANNOUNCEMENT),
        DeadLetterQueue("orders-relay", "OrdersRelayDeadLetterQueue", DeadLetterKind.STREAM_BATCH),
        _consumer("orders-projector", "OrdersProjectionEvents"),
        _consumer("orders-timeline", "OrdersTimelineEvents"),
        _consumer("inventory", "InventoryEvents"),
        _consumer("payments", "PaymentsEvents"),
        _consumer("shipping", "ShippingEvents"),
        _consumer("notifications", "NotificationsEvents"),
    )
}

# The queues rules feed; a message in one of them can still move an order.
CONSUMER_QUEUES: dict[str, str] = {
    dlq.name: dlq.source_prefix for dlq in DEAD_LETTER_QUEUES.values() if dlq.source_prefix is not None
}
