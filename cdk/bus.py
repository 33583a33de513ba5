"""The orderflow event bus, its archive, and the dead-letter queue for undeliverable events."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from constructs import Construct

from cdk.common import dead_letter_queue

ARCHIVE_RETENTION_DAYS = 30


class EventBusConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # No resource policy: only principals of this account with events:PutEvents on the
        # bus ARN can publish, and every function is granted exactly that.
        self.bus = events.EventBus(self, "Bus", description="orderflow domain events")
        self.archive = self.bus.archive(
            "Archive",
            description="Every orderflow event, for replay (consumers are idempotent)",
            event_pattern=events.EventPattern(source=events.Match.prefix("orderflow.")),
            retention=Duration.days(ARCHIVE_RETENTION_DAYS),
        )
        # EventBridge parks events here when it cannot deliver them to a target after its
        # retry policy; `make redrive` replays them onto the bus.
        self.delivery_dlq = dead_letter_queue(self, "DeliveryDeadLetterQueue")
