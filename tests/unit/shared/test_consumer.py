"""shared.consumer.consume: parse before apply, report failures per record."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from shared.consumer import TIME_RESERVE_MS, consume
from shared.events import Envelope, OrderRejected, ShipmentScheduled, new_event
from tests.support.events import LambdaContext

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def record(body: str) -> dict[str, Any]:
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queue",
        "awsRegion": "us-east-1",
    }


def body(envelope: Envelope) -> str:
    return json.dumps({"source": envelope.source, "detail-type": envelope.detail_type, "detail": envelope.detail()})


def shipment(order_id: str) -> Envelope:
    return new_event(
        ShipmentScheduled(order_id=order_id, shipment_id=f"shp-{order_id}"),
        correlation_id="c",
        flow="choreographed",
        time=T0,
    )


class Recorder:
    def __init__(self) -> None:
        self.applied: list[str] = []

    def __call__(self, envelope: Envelope, data: Any) -> None:
        assert isinstance(data, ShipmentScheduled)
        self.applied.append(envelope.metadata.event_id)


@pytest.fixture
def log() -> tuple[Logger, io.StringIO]:
    stream = io.StringIO()
    # A service name of its own: Powertools loggers are shared by name.
    return Logger(service=f"consume-{uuid.uuid4().hex[:8]}", stream=stream), stream


def log_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_malformed_record_fails_alone_and_the_good_ones_apply_once(log):
    logger, stream = log
    good_1, good_2 = shipment("ord-1"), shipment("ord-2")
    malformed = json.loads(body(shipment("ord-3")))
    del malformed["detail"]["data"]["shipment_id"]
    batch = {"Records": [record(body(good_1)), record(json.dumps(malformed)), record(body(good_2))]}
    handler = Recorder()

    response = consume(batch, LambdaContext("consumer"), {"ShipmentScheduled": handler}, logger)

    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][1]["messageId"]}]}
    assert handler.applied == [good_1.metadata.event_id, good_2.metadata.event_id]
    [rejection] = [line for line in log_lines(stream) if line["message"] == "malformed event rejected"]
    assert rejection["level"] == "ERROR"
    assert rejection["message_id"] == batch["Records"][1]["messageId"]
    assert "shipment_id" in rejection["error"]
    assert "missing" in rejection["error"]


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ("not json", "not JSON"),
        (json.dumps({"source": "orderflow.orders", "detail-type": "OrderShipped", "detail": {}}), "OrderShipped"),
        (json.dumps({"detail-type": "OrderPlaced", "detail": {}}), "source"),
    ],
    ids=["not-json", "unknown-detail-type", "no-source"],
)
def test_each_kind_of_malformed_record_is_logged_with_its_error(log, payload, named):
    logger, stream = log
    batch = {"Records": [record(payload), record(body(shipment("ord-1")))]}
    handler = Recorder()

    response = consume(batch, LambdaContext("consumer"), {"ShipmentScheduled": handler}, logger)

    assert response["batchItemFailures"] == [{"itemIdentifier": batch["Records"][0]["messageId"]}]
    assert len(handler.applied) == 1
    [rejection] = [line for line in log_lines(stream) if line["message"] == "malformed event rejected"]
    assert named in rejection["error"]


def test_a_failing_handler_fails_its_record_only(log):
    logger, _ = log
    calls: list[str] = []

    def flaky(envelope: Envelope, data: Any) -> None:
        calls.append(data.order_id)
        if data.order_id == "ord-1":
            raise RuntimeError("downstream unavailable")

    batch = {"Records": [record(body(shipment("ord-1"))), record(body(shipment("ord-2")))]}

    response = consume(batch, LambdaContext("consumer"), {"ShipmentScheduled": flaky}, logger)

    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][0]["messageId"]}]}
    assert calls == ["ord-1", "ord-2"]


def test_an_event_without_a_handler_is_acknowledged(log):
    logger, stream = log
    rejected = new_event(
        OrderRejected(order_id="ord-1", customer_id="cus-1", reason="OUT_OF_STOCK"),
        correlation_id="c",
        flow="orchestrated",
    )
    handler = Recorder()

    response = consume(
        {"Records": [record(body(rejected))]}, LambdaContext("consumer"), {"ShipmentScheduled": handler}, logger
    )

    assert response == {"batchItemFailures": []}
    assert handler.applied == []
    [warning] = [line for line in log_lines(stream) if line["level"] == "WARNING"]
    assert warning["detail_type"] == "OrderRejected"
    assert warning["correlation_id"] == "c"


def test_per_record_log_keys_do_not_leak_into_the_next_record(log):
    logger, stream = log

    def note(envelope: Envelope, data: Any) -> None:
        logger.info("applied")

    consume(
        {"Records": [record(body(shipment("ord-1")))]}, LambdaContext("consumer"), {"ShipmentScheduled": note}, logger
    )
    logger.info("after the batch")

    applied, after = log_lines(stream)
    assert applied["order_id"] == "ord-1"
    assert applied["event_id"] == shipment("ord-1").metadata.event_id
    assert "order_id" not in after


def test_a_detail_that_is_not_an_object_is_logged_as_malformed(log):
    logger, stream = log
    payload = json.dumps({"source": "orderflow.shipping", "detail-type": "ShipmentScheduled", "detail": "oops"})
    batch = {"Records": [record(payload), record(body(shipment("ord-1")))]}

    response = consume(batch, LambdaContext("consumer"), {"ShipmentScheduled": Recorder()}, logger)

    assert response["batchItemFailures"] == [{"itemIdentifier": batch["Records"][0]["messageId"]}]
    assert any(line["message"] == "malformed event rejected" for line in log_lines(stream))


class Countdown(LambdaContext):
    """A context whose remaining time drops by 1 s each time it is asked."""

    def __init__(self, left_ms: int) -> None:
        super().__init__("consumer")
        self.left_ms = left_ms

    def get_remaining_time_in_millis(self) -> int:
        self.left_ms -= 1_000
        return self.left_ms


def test_records_left_when_time_runs_short_are_retried_not_lost_with_the_batch(log):
    logger, stream = log
    handler = Recorder()
    batch = {"Records": [record(body(shipment(f"ord-{n}"))) for n in range(5)]}

    # asked before each record: 1.5 s, then 0.5 s above the reserve (taken), then below it
    response = consume(batch, Countdown(TIME_RESERVE_MS + 2_500), {"ShipmentScheduled": handler}, logger)

    assert len(handler.applied) == 2
    failed = [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
    assert failed == [r["messageId"] for r in batch["Records"][2:]]
    warnings = [line for line in log_lines(stream) if line["message"].startswith("too little time left")]
    assert len(warnings) == 1
