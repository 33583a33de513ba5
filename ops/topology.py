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
    # The relay's on-failure destination: a pointer (DDBStreamBatchInfo) to stream records.
    STREAM_BATCH = "stream-batch"
    # A saga that could not finish parked its input (+ failed_state): run the saga again.
    SAGA_INPUT = "saga-input"
    # A payment workflow that could not announce its failure parked its input: start it again.
    WORKFLOW_INPUT = "workflow-input"


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
            DeadLetterKind.STREAM_BATCH: "orders-relay, with the records read back from the stream",
            DeadLetterKind.SAGA_INPUT: "a new saga execution (synchronous) with the parked input",
            DeadLetterKind.WORKFLOW_INPUT: "a new payment workflow execution with the parked input",
        }[self.kind]


def _consumer(name: str, construct: str) -> DeadLetterQueue:
    return DeadLetterQueue(name, f"{construct}DeadLetterQueue", DeadLetterKind.CONSUMER, f"{construct}Queue")


DEAD_LETTER_QUEUES: dict[str, DeadLetterQueue] = {
    dlq.name: dlq
    for dlq in (
        DeadLetterQueue("event-delivery", "EventBusDeliveryDeadLetterQueue", DeadLetterKind.EVENT_DELIVERY),
        DeadLetterQueue("saga", "OrderSagaSagaDeadLetterQueue", DeadLetterKind.SAGA_INPUT),
        DeadLetterQueue("payment-workflow", "PaymentsWorkflowDeadLetterQueue", DeadLetterKind.WORKFLOW_INPUT),
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

# Whose messages can still advance an order's status, per flow (queue and DLQ alike).
# Choreographed: OrderPlaced via the relay and the bus, inventory and payments deciding (and
# a parked payment workflow), the projector recording. Orchestrated: only its own saga, so
# only a parked saga input. Shipping, notifications and the timeline merely follow orders.
MOVES_ORDERS: dict[str, frozenset[str]] = {
    "choreographed": frozenset(
        {"orders-relay", "event-delivery", "inventory", "payments", "orders-projector", "payment-workflow"}
    ),
    "orchestrated": frozenset({"saga"}),
}
