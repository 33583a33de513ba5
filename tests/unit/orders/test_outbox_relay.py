"""orders-relay: real stream records of the orders table in, exactly the owed events out on the bus."""

from __future__ import annotations

import boto3
import pytest

from orders import dependencies
from orders.data.orders_repository import DynamoDBOrdersRepository
from orders.domain.models import Order, StatusChange
from orders.handlers import outbox_relay
from shared.events import event_id_for
from tests.unit.orders.builders import pending_order


def _order(order_id: str, flow: str = "choreographed") -> Order:
    return pending_order(order_id, flow, quantity=3, unit_price_cents=1250, customer_id="cust-r")


@pytest.fixture
def repository(aws):
    return DynamoDBOrdersRepository("orders-test")


@pytest.fixture
def relay(orders_stream, context):
    def run() -> dict:
        return outbox_relay.lambda_handler(orders_stream.read_event(), context)

    return run


def _advance(repository, order_id: str, status: str, reason: str | None = None, at: str = "10:00:05") -> None:
    repository.advance(order_id, StatusChange(status=status, reason=reason), f"2026-03-01T{at}.000000Z")


def test_insert_publishes_order_placed_with_the_items_data(repository, relay, bus_queue) -> None:
    repository.create(_order("o-1"))

    assert relay() == {"batchItemFailures": []}

    [event] = bus_queue.drain()
    assert event["source"] == "orderflow.orders" and event["detail-type"] == "OrderPlaced"
    metadata, data = event["detail"]["metadata"], event["detail"]["data"]
    assert metadata["event_id"] == event_id_for("o-1", "OrderPlaced")
    assert metadata["flow"] == "choreographed" and metadata["correlation_id"] == "corr-o-1"
    assert metadata["time"].startswith("2026-03-01T10:00:00")
    assert data == {
        "order_id": "o-1",
        "customer_id": "cust-r",
        "items": [{"sku": "SKU-1", "quantity": 3, "unit_price_cents": 1250}],
        "total_cents": 3750,
        "payment_ref": "kms1:c2VhbGVk",  # event-carried state: payments opens it to charge (by contract)
    }


def test_choreographed_lifecycle_publishes_placed_then_confirmed_only(repository, relay, bus_queue) -> None:
    repository.create(_order("o-2"))
    _advance(repository, "o-2", "RESERVED", at="10:00:01")
    _advance(repository, "o-2", "CONFIRMED", at="10:00:02")
    _advance(repository, "o-2", "REJECTED", at="10:00:03")  # refused: terminal is final, no MODIFY

    relay()

    events = bus_queue.drain()
    assert [e["detail-type"] for e in events] == ["OrderPlaced", "OrderConfirmed"]
    confirmed = events[1]["detail"]
    assert confirmed["metadata"]["event_id"] == event_id_for("o-2", "OrderConfirmed")
    assert confirmed["metadata"]["time"].startswith("2026-03-01T10:00:02")
    assert confirmed["data"] == {
        "order_id": "o-2",
        "customer_id": "cust-r",
        "items": [{"sku": "SKU-1", "quantity": 3, "unit_price_cents": 1250}],
        "total_cents": 3750,
    }


def test_choreographed_rejection_publishes_order_rejected_with_the_reason(repository, relay, bus_queue) -> None:
    repository.create(_order("o-3"))
    _advance(repository, "o-3", "REJECTED", reason="OUT_OF_STOCK")

    relay()

    events = bus_queue.drain()
    assert [e["detail-type"] for e in events] == ["OrderPlaced", "OrderRejected"]
    assert events[1]["detail"]["data"] == {"order_id": "o-3", "customer_id": "cust-r", "reason": "OUT_OF_STOCK"}


def test_orchestrated_order_gets_order_placed_and_its_outcome_from_the_outbox(repository, relay, bus_queue) -> None:
    """The saga has no announcement step: its decision and the OrderConfirmed owed are one write."""
    repository.create(_order("o-4", flow="orchestrated"))
    _advance(repository, "o-4", "CONFIRMED")

    relay()

    placed, confirmed = bus_queue.drain()
    assert placed["detail-type"] == "OrderPlaced" and confirmed["detail-type"] == "OrderConfirmed"
    assert confirmed["detail"]["metadata"]["flow"] == "orchestrated"
    assert confirmed["detail"]["metadata"]["event_id"] == event_id_for("o-4", "OrderConfirmed")


def test_modify_without_a_status_change_and_remove_publish_nothing(repository, relay, bus_queue) -> None:
    repository.create(_order("o-5"))
    _advance(repository, "o-5", "CONFIRMED")
    relay()
    bus_queue.drain()
    table = boto3.resource("dynamodb").Table("orders-test")
    table.update_item(
        Key={"order_id": "o-5"}, UpdateExpression="SET tax_cents = :t", ExpressionAttributeValues={":t": 5}
    )
    table.delete_item(Key={"order_id": "o-5"})

    assert relay() == {"batchItemFailures": []}
    assert bus_queue.drain() == []


def test_replaying_a_batch_republishes_identical_events(repository, orders_stream, context, bus_queue) -> None:
    repository.create(_order("o-6"))
    _advance(repository, "o-6", "REJECTED", reason="PAYMENT_DECLINED")
    batch = orders_stream.read_event()

    outbox_relay.lambda_handler(batch, context)
    outbox_relay.lambda_handler(batch, context)

    events = bus_queue.drain()
    assert len(events) == 4
    by_type: dict[str, list[dict]] = {}
    for event in events:
        by_type.setdefault(event["detail-type"], []).append(event["detail"])
    assert all(first == second for first, second in by_type.values())


def test_a_bad_record_fails_alone(repository, orders_stream, context, bus_queue) -> None:
    repository.create(_order("o-7"))
    boto3.resource("dynamodb").Table("orders-test").put_item(Item={"order_id": "broken", "status": "PENDING"})
    repository.create(_order("o-8"))
    batch = orders_stream.read_event()
    broken_sequence = batch["Records"][1]["dynamodb"]["SequenceNumber"]

    response = outbox_relay.lambda_handler(batch, context)

    assert response == {"batchItemFailures": [{"itemIdentifier": broken_sequence}]}
    assert [e["detail"]["data"]["order_id"] for e in bus_queue.drain()] == ["o-7", "o-8"]


def test_bus_refusal_fails_the_record_for_a_retry(repository, orders_stream, context, monkeypatch) -> None:
    repository.create(_order("o-9"))
    batch = orders_stream.read_event()

    class Refusing:
        def publish(self, events):
            raise RuntimeError("PutEvents refused")

    monkeypatch.setattr(dependencies.relay(), "_bus", Refusing())

    response = outbox_relay.lambda_handler(batch, context)

    assert response["batchItemFailures"] == [{"itemIdentifier": batch["Records"][0]["dynamodb"]["SequenceNumber"]}]
