"""shipping-consumer through its Lambda handler, on moto."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared import dependencies as shared_dependencies
from shared.events import (
    OrderConfirmed,
    OrderLine,
    OrderRejected,
    ShipmentScheduled,
    event_id_for,
    new_event,
    parse_eventbridge,
)
from shared.publisher import EventPublisher
from shipping import dependencies
from shipping.domain.models import shipment_id_for

# A failed invocation publishes no metrics, and Powertools says so; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def order_confirmed(order_id: str = "ord-1", flow: str = "choreographed"):
    data = OrderConfirmed(
        order_id=order_id,
        customer_id="cus-1",
        items=[
            OrderLine(sku="SKU-A", quantity=2, unit_price_cents=500),
            OrderLine(sku="SKU-B", quantity=1, unit_price_cents=250),
        ],
        total_cents=1250,
    )
    return new_event(data, correlation_id="corr-1", flow=flow, time=T0)


def order_rejected(order_id: str):
    data = OrderRejected(order_id=order_id, customer_id="cus-1", reason="OUT_OF_STOCK")
    return new_event(data, correlation_id="corr-2", flow="choreographed", time=T0)


def metric_total(captured: str, name: str) -> float:
    """Sum of one metric over every EMF blob printed by log_metrics."""
    total = 0.0
    for line in captured.splitlines():
        try:
            blob = json.loads(line)
        except ValueError:
            continue
        if isinstance(blob, dict) and "_aws" in blob and name in blob:
            value = blob[name]
            total += sum(value) if isinstance(value, list) else value
    return total


def test_duplicate_deliveries_schedule_exactly_one_shipment(stack, capsys):
    event = order_confirmed()

    # Given the same OrderConfirmed three times: twice in one batch, once more later.
    first = stack.deliver(event, event)
    second = stack.deliver(event)

    assert first == {"batchItemFailures": []}
    assert second == {"batchItemFailures": []}
    shipments = stack.shipments()
    assert len(shipments) == 1
    shipment = shipments[0]
    assert shipment["order_id"] == {"S": "ord-1"}
    assert shipment["shipment_id"] == {"S": shipment_id_for("ord-1")}
    assert shipment["status"] == {"S": "SCHEDULED"}
    assert "created_at" in shipment
    assert [(line["M"]["sku"]["S"], line["M"]["quantity"]["N"]) for line in shipment["items"]["L"]] == [
        ("SKU-A", "2"),
        ("SKU-B", "1"),
    ]
    # Every attempt announces, and every announcement is the same event.
    announced = stack.announced()
    assert len(announced) == 3
    assert {json.dumps(message["detail"], sort_keys=True) for message in announced} == {
        json.dumps(announced[0]["detail"], sort_keys=True)
    }
    assert announced[0]["detail"]["metadata"]["event_id"] == event_id_for("ord-1", "ShipmentScheduled")
    # The metric counts shipments, not deliveries.
    assert metric_total(capsys.readouterr().out, "ShipmentScheduled") == 1


@pytest.mark.parametrize("flow", ["orchestrated", "choreographed"])
def test_announcement_follows_the_contract_and_the_orders_flow(stack, flow):
    stack.deliver(order_confirmed(flow=flow))

    [message] = stack.announced()
    envelope, data = parse_eventbridge(message)
    assert message["source"] == "orderflow.shipping"
    assert isinstance(data, ShipmentScheduled)
    assert data.shipment_id == shipment_id_for("ord-1")
    assert envelope.metadata.flow == flow
    assert envelope.metadata.correlation_id == "corr-1"
    assert envelope.metadata.order_id == "ord-1"


def test_a_retry_after_a_failed_publish_still_announces(stack, monkeypatch, capsys):
    event = order_confirmed()
    good_publisher = dependencies.publisher

    # Given PutEvents fails after the shipment was stored (the bus refuses the entry); a batch
    # whose every record failed fails the invocation, so SQS redelivers it.
    monkeypatch.setattr(dependencies, "publisher", lambda: EventPublisher("no-such-bus"))
    failed = stack.deliver(event)
    assert len(failed["batchItemFailures"]) == 1, failed
    assert len(stack.shipments()) == 1
    assert stack.announced() == []

    # When SQS redelivers the record and the bus accepts again.
    monkeypatch.setattr(dependencies, "publisher", good_publisher)
    retried = stack.deliver(event)

    # Then the existing shipment is announced, and no second shipment exists.
    assert retried == {"batchItemFailures": []}
    assert len(stack.shipments()) == 1
    [message] = stack.announced()
    assert message["detail"]["data"]["shipment_id"] == shipment_id_for("ord-1")
    assert metric_total(capsys.readouterr().out, "ShipmentScheduled") == 1


def test_an_outage_fails_the_record_and_writes_nothing(stack):
    stack.set_faults({"shipping.*": {"outage": True}})
    # An event shipping ignores shares the batch, so the outage fails one record, not all.
    batch = stack.sqs_event(order_confirmed("ord-1"), order_rejected("ord-2"))

    response = stack.invoke(batch)

    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][0]["messageId"]}]}
    assert stack.shipments() == []
    assert stack.announced() == []

    # When the outage ends, the redelivered record goes through.
    stack.set_faults({})
    assert stack.invoke(batch) == {"batchItemFailures": []}
    assert len(stack.shipments()) == 1
    assert len(stack.announced()) == 1


def test_an_outage_failing_the_whole_batch_fails_the_invocation(stack):
    stack.set_faults({"shipping.schedule": {"outage": True}})

    failed = stack.deliver(order_confirmed("ord-1"), order_confirmed("ord-2"))
    assert len(failed["batchItemFailures"]) == 2, failed
    assert stack.shipments() == []


def test_a_fault_on_another_service_does_not_touch_shipping(stack):
    stack.set_faults({"payments.*": {"outage": True}, "shipping.other": {"failure_rate": 1.0}})

    assert stack.deliver(order_confirmed()) == {"batchItemFailures": []}
    assert len(stack.shipments()) == 1


def test_events_other_than_order_confirmed_are_acknowledged_and_ignored(stack):
    assert stack.deliver(order_rejected("ord-9")) == {"batchItemFailures": []}
    assert stack.shipments() == []
    assert stack.announced() == []


def test_missing_configuration_fails_at_cold_start(stack, monkeypatch):
    monkeypatch.delenv("SHIPMENTS_TABLE")

    with pytest.raises(ValidationError, match="SHIPMENTS_TABLE"):
        shared_dependencies.reset()
        importlib.reload(stack.handler)
