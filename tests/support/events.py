"""Lambda events as AWS delivers them, built from orderflow's envelopes; a tap on a bus and a fake publisher."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3

from shared.events import Envelope

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools and the handlers read."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def event_metadata(order_id: str, **overrides: Any) -> dict[str, Any]:
    """An event's metadata written out by hand, for details the app's own models would refuse to build."""
    metadata = {
        "event_id": str(uuid.uuid4()),
        "correlation_id": f"corr-{uuid.uuid4().hex[:8]}",
        "order_id": order_id,
        "flow": "choreographed",
        "schema_version": "2.0",
        "time": datetime.now(UTC).isoformat(),
    }
    return {**metadata, **overrides}


def saga_task(
    action: str, order_id: str, /, sku: str = "SKU-1", quantity: int = 2, unit_price_cents: int = 1250, **overrides: Any
) -> dict[str, Any]:
    """A task Lambda's input from the saga's state machine: `action` and the order as placed (`quantity` of
    `sku`), `overrides` last; the machine passes its whole state, so earlier results may ride along."""
    task = {
        "action": action,
        "order_id": order_id,
        "customer_id": "cust-1",
        "items": [{"sku": sku, "quantity": quantity, "unit_price_cents": unit_price_cents}],
        "total_cents": quantity * unit_price_cents,
        "payment_ref": "kms1:c2VhbGVk",
        "correlation_id": f"corr-{order_id}",
        "flow": "orchestrated",
    }
    return {**task, **overrides}


def eventbridge_event(envelope: Envelope) -> dict[str, Any]:
    """An event as EventBridge delivers it (into an SQS message body, or to a target)."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": envelope.detail_type,
        "source": envelope.source,
        "account": ACCOUNT,
        "time": envelope.metadata.time.isoformat(),
        "region": REGION,
        "resources": [],
        "detail": envelope.detail(),
    }


def sqs_record(body: str, message_id: str | None = None, queue: str = "queue") -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": ACCOUNT,
            "ApproximateFirstReceiveTimestamp": "1700000000000",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}",
        "awsRegion": REGION,
    }


def sqs_event(*envelopes: Envelope) -> dict[str, Any]:
    """An SQS batch, one record per envelope, each as the bus's rule delivered it."""
    return {"Records": [sqs_record(json.dumps(eventbridge_event(envelope))) for envelope in envelopes]}


def sqs_batch(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    """An SQS batch of bodies as they are (EventBridge events, or any text), message ids m-0, m-1, ..."""
    return {
        "Records": [
            sqs_record(body if isinstance(body, str) else json.dumps(body), f"m-{index}")
            for index, body in enumerate(bodies)
        ]
    }


class BusTap:
    """A rule on ``bus`` sending every event to a queue; ``drain()`` returns what arrived since."""

    def __init__(self, bus: str, create: bool = False) -> None:
        """`create`: make the bus first."""
        self._sqs = boto3.client("sqs")
        events = boto3.client("events")
        if create:
            events.create_event_bus(Name=bus)
        self.queue_url = self._sqs.create_queue(QueueName=f"tap-{bus}")["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]
        events.put_rule(Name=f"tap-{bus}", EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": ""}]}))
        events.put_targets(Rule=f"tap-{bus}", EventBusName=bus, Targets=[{"Id": "tap", "Arn": arn["QueueArn"]}])

    def drain(self) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while True:
            messages = self._sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return received
            for message in messages:
                received.append(json.loads(message["Body"]))
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


class FakePublisher:
    """Keeps what the service publishes instead of putting it on a bus."""

    def __init__(self) -> None:
        self.events: list[Envelope] = []

    def publish(self, events: Any) -> None:
        self.events.extend(events)

    def types(self) -> list[str]:
        return [event.detail_type for event in self.events]
