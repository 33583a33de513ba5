"""orders-timeline: every orderflow event onto the order's timeline, deduplicated; GET serves it in time order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from orders.handlers import timeline
from shared.events import (
    EVENT_TYPES,
    InventoryReleased,
    InventoryReserved,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    PaymentCompleted,
    PaymentFailed,
    ShipmentScheduled,
    event_id_for,
)
from tests.unit.orders.builders import eventbridge_event, sqs_event

LINES = [
    OrderLine(sku="SKU-1", quantity=2, unit_price_cents=500),
    OrderLine(sku="SKU-2", quantity=1, unit_price_cents=99),
]
T0 = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def placed(order_id: str = "o-1") -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id, customer_id="cust-secret", items=LINES, total_cents=1099, payment_ref="kms1:s3cr3t"
    )


@pytest.fixture
def deliver(aws, context):
    def send(*events) -> dict:
        return timeline.lambda_handler(sqs_event(*events), context)

    return send


def test_every_contract_event_type_has_a_handler() -> None:
    assert set(timeline.HANDLERS) == set(EVENT_TYPES)


def test_events_delivered_out_of_order_are_served_in_time_order(deliver, client) -> None:
    deliver(
        eventbridge_event(
            PaymentCompleted(order_id="o-1", amount_cents=1099, tax_cents=88, capture_id="c"), time=at(3)
        ),
        eventbridge_event(placed(), time=at(0), correlation_id="corr-t"),
        eventbridge_event(ShipmentScheduled(order_id="o-1", shipment_id="sh-1"), time=at(5)),
        eventbridge_event(
            InventoryReserved(
                order_id="o-1", customer_id="cust-secret", items=LINES, total_cents=1099, payment_ref="kms1:s3cr3t"
            ),
            time=at(1),
        ),
    )

    response = client.call("GET", "/orders/o-1/timeline")

    assert response.status == 200
    assert response.body["order_id"] == "o-1"
    events = response.body["events"]
    assert [e["detail_type"] for e in events] == [
        "OrderPlaced",
        "InventoryReserved",
        "PaymentCompleted",
        "ShipmentScheduled",
    ]
    assert [e["time"] for e in events] == sorted(e["time"] for e in events)
    first = events[0]
    assert set(first) == {"time", "source", "detail_type", "event_id", "correlation_id", "flow", "summary"}
    assert first["source"] == "orderflow.orders" and first["correlation_id"] == "corr-t"
    assert first["event_id"] == event_id_for("o-1", "OrderPlaced") and first["flow"] == "choreographed"
    assert first["time"] == "2026-03-01T10:00:00.000000Z"


def test_redelivered_event_is_stored_once(deliver, tables) -> None:
    event = eventbridge_event(placed(), time=at(0))

    assert deliver(event, event) == {"batchItemFailures": []}
    deliver(event)

    assert len(tables.events()) == 1
    [item] = tables.events()
    assert item["event_key"] == f"2026-03-01T10:00:00.000000Z#{event_id_for('o-1', 'OrderPlaced')}"


def test_re_announcement_with_a_new_time_shows_once(deliver, client) -> None:
    deliver(
        eventbridge_event(PaymentFailed(order_id="o-1", reason="PAYMENT_DECLINED"), time=at(2)),
        eventbridge_event(PaymentFailed(order_id="o-1", reason="PAYMENT_DECLINED"), time=at(9)),  # retried producer
    )

    events = client.call("GET", "/orders/o-1/timeline").body["events"]

    assert len(events) == 1 and events[0]["time"].startswith("2026-03-01T10:00:02")


def test_summaries_carry_amounts_and_counts_but_no_personal_or_payment_data(deliver, tables) -> None:
    deliver(
        eventbridge_event(placed(), time=at(0)),
        eventbridge_event(
            OrderConfirmed(order_id="o-1", customer_id="cust-secret", items=LINES, total_cents=1099), time=at(1)
        ),
        eventbridge_event(InventoryReleased(order_id="o-1", items=LINES), time=at(2)),
        eventbridge_event(PaymentFailed(order_id="o-1", reason="PAYMENT_UNAVAILABLE"), time=at(3)),
    )

    summaries = {item["detail_type"]: item["summary"] for item in tables.events()}
    assert summaries["OrderPlaced"] == {"status": "PENDING", "total_cents": 1099, "lines": 2, "units": 3}
    assert summaries["OrderConfirmed"] == {"status": "CONFIRMED", "total_cents": 1099, "lines": 2, "units": 3}
    assert summaries["InventoryReleased"] == {"lines": 2, "units": 3}
    assert summaries["PaymentFailed"] == {"reason": "PAYMENT_UNAVAILABLE"}
    stored = json.dumps(tables.events(), default=str)
    assert "s3cr3t" not in stored and "cust-secret" not in stored


def test_malformed_event_fails_its_record(deliver) -> None:
    bad = eventbridge_event(placed())
    bad["detail"]["data"]["total_cents"] = "lots"

    response = deliver(bad, eventbridge_event(placed("o-2")))

    assert len(response["batchItemFailures"]) == 1


def test_timeline_of_an_unknown_order_without_events_is_404(client) -> None:
    response = client.call("GET", "/orders/nobody/timeline")

    assert response.status == 404 and response.body["error"] == "order_not_found"


def test_timeline_of_a_known_order_without_events_yet_is_empty(client) -> None:
    from tests.unit.orders.builders import order_body

    order_id = client.post_order(order_body()).body["order_id"]

    response = client.call("GET", f"/orders/{order_id}/timeline")

    assert response.status == 200 and response.body == {"order_id": order_id, "events": []}
