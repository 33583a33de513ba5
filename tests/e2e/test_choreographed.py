"""The choreographed path end to end: 202, then services converge the order through the bus."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def _place(orderflow, sku, quantity, token="tok_visa"):
    response = orderflow.order([(sku, quantity)], token=token, flow="choreographed")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "PENDING"
    assert response.headers["Location"] == f"/orders/{body['order_id']}"
    orderflow.cloud.wait_idle()
    return body["order_id"]


def _timeline(orderflow, order_id):
    response = orderflow.http.get(orderflow.url(f"/orders/{order_id}/timeline"))
    assert response.status_code == 200, response.text
    return [event["detail_type"] for event in response.json()["events"]]


def test_choreographed_order_converges_to_confirmed_and_ships(orderflow, sku):
    orderflow.put_stock(sku, available=4, price_cents=500)

    order_id = _place(orderflow, sku, 3)

    order = orderflow.http.get(orderflow.url(f"/orders/{order_id}")).json()
    assert order["status"] == "CONFIRMED", order
    assert orderflow.stock(sku) == {"available": 1, "reserved": 3, "stocked": 4}
    assert orderflow.payment(order_id)["state"] == "CAPTURED"
    assert orderflow.shipment(order_id)["status"] == "SCHEDULED"
    assert _timeline(orderflow, order_id) == [
        "OrderPlaced",
        "InventoryReserved",
        "PaymentCompleted",
        "OrderConfirmed",
        "ShipmentScheduled",
    ]


def test_choreographed_out_of_stock_is_rejected(orderflow, sku):
    orderflow.put_stock(sku, available=2)

    order_id = _place(orderflow, sku, 3)

    order = orderflow.http.get(orderflow.url(f"/orders/{order_id}")).json()
    assert (order["status"], order["reason"]) == ("REJECTED", "OUT_OF_STOCK")
    assert orderflow.stock(sku) == {"available": 2, "reserved": 0, "stocked": 2}
    assert orderflow.payment(order_id) is None
    assert orderflow.shipment(order_id) is None
    timeline = _timeline(orderflow, order_id)
    assert timeline[:3] == ["OrderPlaced", "InventoryRejected", "OrderRejected"]


def test_choreographed_decline_is_compensated_by_events(orderflow, sku):
    orderflow.put_stock(sku, available=5)

    order_id = _place(orderflow, sku, 2, token="tok_chargeDeclined")

    order = orderflow.http.get(orderflow.url(f"/orders/{order_id}")).json()
    assert (order["status"], order["reason"]) == ("REJECTED", "PAYMENT_DECLINED")
    assert orderflow.stock(sku) == {"available": 5, "reserved": 0, "stocked": 5}
    assert orderflow.payment(order_id)["state"] == "DECLINED"
    assert orderflow.shipment(order_id) is None
    timeline = _timeline(orderflow, order_id)
    for expected in ("OrderPlaced", "InventoryReserved", "PaymentFailed", "InventoryReleased", "OrderRejected"):
        assert expected in timeline, timeline
    assert timeline.index("InventoryReserved") < timeline.index("PaymentFailed") < timeline.index("InventoryReleased")


def test_orchestrated_timeline_shows_the_saga_steps(orderflow, sku):
    orderflow.put_stock(sku, available=2)
    response = orderflow.order([(sku, 1)])
    assert response.status_code == 201, response.text
    orderflow.cloud.wait_idle()

    timeline = _timeline(orderflow, response.json()["order_id"])

    assert timeline == ["OrderPlaced", "InventoryReserved", "PaymentCompleted", "OrderConfirmed", "ShipmentScheduled"]


PARITY_WORKLOAD = [
    # (stock, quantity, token) per sku: confirmed, out of stock, declined, transient-then-confirmed
    (3, 2, "tok_visa"),
    (1, 2, "tok_visa"),
    (4, 1, "tok_chargeDeclined"),
    (2, 2, "tok_transient"),
]


def test_both_paths_reach_the_same_outcomes_stock_payments_and_shipments(orderflow):
    import uuid

    results = {}
    for flow in ("orchestrated", "choreographed"):
        outcome = []
        for stock, quantity, token in PARITY_WORKLOAD:
            sku = f"parity-{uuid.uuid4().hex[:8]}"
            orderflow.put_stock(sku, available=stock)
            response = orderflow.order([(sku, quantity)], token=token, flow=flow)
            assert response.status_code in (201, 202, 402, 409), response.text
            outcome.append((sku, response.json()["order_id"]))
        orderflow.cloud.wait_idle()
        rows = []
        for sku, order_id in outcome:
            order = orderflow.order_item(order_id)
            payment = orderflow.payment(order_id)
            rows.append(
                (
                    order["status"],
                    order.get("reason"),
                    tuple(sorted(orderflow.stock(sku).items())),
                    payment["state"] if payment else None,
                    int(payment["amount_cents"]) if payment and payment.get("amount_cents") is not None else None,
                    orderflow.shipment(order_id) is not None,
                )
            )
        results[flow] = rows

    assert results["orchestrated"] == results["choreographed"]
    assert [row[0] for row in results["orchestrated"]] == ["CONFIRMED", "REJECTED", "REJECTED", "CONFIRMED"]
