"""notifications-consumer through its Lambda handler, on moto."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from notifications import dependencies
from notifications.data.dynamodb import DynamoDBAnalyticsRepository
from notifications.data.sns import SNSNotifier
from shared import dependencies as shared_dependencies
from shared.events import (
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    OrderRejected,
    ShipmentScheduled,
    event_id_for,
    new_event,
)

# A failed invocation publishes no metrics, and Powertools says so; that is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

T0 = datetime(2026, 3, 1, 23, 59, 30, tzinfo=UTC)
DAY = "2026-03-01"


def confirmed(order_id: str = "ord-1", time: datetime = T0):
    data = OrderConfirmed(
        order_id=order_id,
        customer_id="cus-1",
        items=[OrderLine(sku="SKU-A", quantity=2, unit_price_cents=500)],
        total_cents=1234,
    )
    return new_event(data, correlation_id="corr-1", flow="orchestrated", time=time)


def rejected(order_id: str = "ord-2", reason: str = "OUT_OF_STOCK"):
    data = OrderRejected(order_id=order_id, customer_id="cus-1", reason=reason)
    return new_event(data, correlation_id="corr-2", flow="choreographed", time=T0)


def scheduled(order_id: str = "ord-1"):
    data = ShipmentScheduled(order_id=order_id, shipment_id="shp-1")
    return new_event(data, correlation_id="corr-1", flow="orchestrated", time=T0)


def placed(order_id: str = "ord-3"):
    data = OrderPlaced(
        order_id=order_id,
        customer_id="cus-1",
        items=[OrderLine(sku="SKU-A", quantity=1, unit_price_cents=500)],
        total_cents=500,
        payment_ref="kms1:c2VhbGVk",
    )
    return new_event(data, correlation_id="corr-3", flow="choreographed", time=T0)


def counter(stack, name: str) -> int:
    return dynamodb_analytics(stack).day_counts(DAY).get(name, 0)


def dynamodb_analytics(stack) -> DynamoDBAnalyticsRepository:
    return DynamoDBAnalyticsRepository(stack.table, stack.dynamodb)


def test_duplicates_count_once_and_notify_once(stack):
    event = confirmed()

    # The same event three times: twice in one batch, once more later.
    assert stack.deliver(event, event) == {"batchItemFailures": []}
    assert stack.deliver(event) == {"batchItemFailures": []}

    assert counter(stack, "OrderConfirmed_count") == 1
    assert counter(stack, "confirmed_cents") == 1234
    marker = stack.item(f"EVENT#{event.metadata.event_id}")
    assert marker is not None
    assert marker["detail_type"] == {"S": "OrderConfirmed"}
    assert "notified_at" in marker
    [notification] = stack.notifications()
    assert notification["message"] == {
        "type": "OrderConfirmed",
        "order_id": "ord-1",
        "event_id": event_id_for("ord-1", "OrderConfirmed"),
        "text": "Your order ord-1 is confirmed: 2 items, total 12.34.",
    }
    assert notification["attributes"] == {"event_type": "OrderConfirmed"}


def test_each_outcome_is_notified_and_counted_on_the_events_day(stack):
    assert stack.deliver(confirmed(), rejected(), scheduled()) == {"batchItemFailures": []}

    received = {n["attributes"]["event_type"]: n["message"] for n in stack.notifications()}
    assert set(received) == {"OrderConfirmed", "OrderRejected", "ShipmentScheduled"}
    assert received["OrderRejected"]["text"] == "We could not accept your order ord-2: an item is out of stock."
    assert received["ShipmentScheduled"]["text"] == "Your order ord-1 is scheduled for shipment (shp-1)."
    # 23:59:30 UTC on 1 March counts on 1 March, whenever it is processed.
    assert counter(stack, "OrderConfirmed_count") == 1
    assert counter(stack, "OrderRejected_count") == 1
    assert counter(stack, "ShipmentScheduled_count") == 1
    assert counter(stack, "confirmed_cents") == 1234


def test_notifications_never_carry_a_payment_token(stack):
    # An OrderPlaced (which carries the payment reference) shares the batch and is ignored; a rejection's
    # free-text reason containing a token is not echoed to the customer.
    response = stack.deliver(placed(), rejected(reason="declined tok_chargeDeclined"), confirmed())

    assert response == {"batchItemFailures": []}
    received = stack.notifications()
    assert len(received) == 2
    for notification in received:
        assert "tok_" not in notification["raw"]
        assert "payment_token" not in notification["raw"] and "payment_ref" not in notification["raw"]
        assert "kms1:" not in notification["raw"] and "kms2:" not in notification["raw"]
    texts = {n["message"]["type"]: n["message"]["text"] for n in received}
    assert texts["OrderRejected"] == "We could not accept your order ord-2: it could not be completed."
    assert stack.item(f"EVENT#{event_id_for('ord-3', 'OrderPlaced')}") is None


def test_a_retry_after_a_failed_notification_notifies_without_counting_again(stack, monkeypatch):
    event = confirmed()
    working = dependencies.notifier

    # Given SNS refuses the publish after analytics were written.
    monkeypatch.setattr(dependencies, "notifier", lambda: SNSNotifier(stack.topic_arn + "-missing"))
    failed = stack.deliver(event)
    assert len(failed["batchItemFailures"]) == 1, failed
    assert counter(stack, "OrderConfirmed_count") == 1
    assert "notified_at" not in stack.item(f"EVENT#{event.metadata.event_id}")
    assert stack.notifications() == []

    # When SQS redelivers and SNS works again, the customer is notified; the count stays.
    monkeypatch.setattr(dependencies, "notifier", working)
    assert stack.deliver(event) == {"batchItemFailures": []}
    assert stack.deliver(event) == {"batchItemFailures": []}

    assert len(stack.notifications()) == 1
    assert counter(stack, "OrderConfirmed_count") == 1


def test_a_crash_between_publish_and_mark_sends_a_copy_subscribers_can_drop(stack, monkeypatch):
    event = confirmed()
    original = dependencies.analytics().mark_notified

    def crash(event_id, at):
        raise ConnectionError("lost the connection after publishing")

    monkeypatch.setattr(dependencies.analytics(), "mark_notified", crash)
    failed = stack.deliver(event)
    assert len(failed["batchItemFailures"]) == 1, failed
    monkeypatch.setattr(dependencies.analytics(), "mark_notified", original)
    assert stack.deliver(event) == {"batchItemFailures": []}

    copies = stack.notifications()
    assert len(copies) == 2
    assert {c["message"]["event_id"] for c in copies} == {event.metadata.event_id}
    assert counter(stack, "OrderConfirmed_count") == 1


def test_an_outage_fails_the_record_and_changes_nothing(stack):
    stack.set_faults({"notifications.notify": {"outage": True}})
    batch = stack.sqs_event(confirmed(), placed())

    response = stack.invoke(batch)

    assert response == {"batchItemFailures": [{"itemIdentifier": batch["Records"][0]["messageId"]}]}
    assert dynamodb_analytics(stack).day_counts(DAY) == {}
    assert stack.notifications() == []

    stack.set_faults({})
    assert stack.invoke(batch) == {"batchItemFailures": []}
    assert counter(stack, "OrderConfirmed_count") == 1
    assert len(stack.notifications()) == 1


def test_failure_rate_one_fails_every_record(stack):
    stack.set_faults({"notifications.*": {"failure_rate": 1.0}})

    failed = stack.deliver(confirmed(), rejected())
    assert len(failed["batchItemFailures"]) == 2, failed
    assert dynamodb_analytics(stack).day_counts(DAY) == {}


def test_missing_configuration_fails_at_cold_start(stack, monkeypatch):
    monkeypatch.setenv("NOTIFICATIONS_TOPIC_ARN", "not-an-arn")
    monkeypatch.delenv("ANALYTICS_TABLE")

    with pytest.raises(ValidationError) as raised:
        shared_dependencies.reset()
        importlib.reload(stack.handler)
    fields = {error["loc"][0] for error in raised.value.errors()}
    assert fields == {"NOTIFICATIONS_TOPIC_ARN", "ANALYTICS_TABLE"}
