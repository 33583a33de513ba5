"""The orchestrated path end to end: HTTP -> orders API -> Express saga (from the template) -> tables."""

from __future__ import annotations

import concurrent.futures
import uuid

import pytest

pytestmark = pytest.mark.e2e

TAX_BPS = 825


def _tax(cents: int) -> int:
    return (cents * TAX_BPS + 5000) // 10000


def test_confirmed_order_reserves_captures_and_ships(orderflow, sku):
    orderflow.put_stock(sku, available=10, price_cents=1999)

    response = orderflow.order([(sku, 2)])

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "CONFIRMED"
    order_id = body["order_id"]
    assert orderflow.stock(sku) == {"available": 8, "reserved": 2, "stocked": 10}
    payment = orderflow.payment(order_id)
    assert payment["state"] == "CAPTURED"
    assert int(payment["amount_cents"]) == 3998
    assert int(payment["tax_cents"]) == _tax(3998)
    assert orderflow.order_item(order_id)["status"] == "CONFIRMED"

    fetched = orderflow.http.get(orderflow.url(f"/orders/{order_id}")).json()
    assert fetched["status"] == "CONFIRMED" and fetched["flow"] == "orchestrated"
    assert fetched["total_cents"] == 3998
    assert "payment_token" not in fetched and "payment_ref" not in fetched and "payment_fingerprint" not in fetched

    orderflow.cloud.wait_idle()
    shipment = orderflow.shipment(order_id)
    assert shipment is not None and shipment["status"] == "SCHEDULED"


def test_out_of_stock_is_rejected_with_409_and_nothing_moves(orderflow, sku):
    orderflow.put_stock(sku, available=1)

    response = orderflow.order([(sku, 2)])

    assert response.status_code == 409, response.text
    assert response.json()["status"] == "REJECTED"
    assert response.json()["reason"] == "OUT_OF_STOCK"
    order_id = response.json()["order_id"]
    assert orderflow.stock(sku) == {"available": 1, "reserved": 0, "stocked": 1}
    assert orderflow.payment(order_id) is None
    assert orderflow.order_item(order_id)["status"] == "REJECTED"


def test_declined_card_is_compensated_stock_released_nothing_charged(orderflow, sku):
    orderflow.put_stock(sku, available=5)

    response = orderflow.order([(sku, 3)], token="tok_chargeDeclined")

    assert response.status_code == 402, response.text
    assert response.json()["reason"] == "PAYMENT_DECLINED"
    order_id = response.json()["order_id"]
    assert orderflow.stock(sku) == {"available": 5, "reserved": 0, "stocked": 5}
    payment = orderflow.payment(order_id)
    assert payment is not None and payment["state"] == "DECLINED"
    assert not payment.get("capture_id")
    assert orderflow.order_item(order_id)["reason"] == "PAYMENT_DECLINED"
    orderflow.cloud.wait_idle()
    assert orderflow.shipment(order_id) is None


def test_transient_provider_failure_is_retried_then_confirmed(orderflow, sku):
    orderflow.put_stock(sku, available=3)

    response = orderflow.order([(sku, 1)], token="tok_transient")

    assert response.status_code == 201, response.text
    order_id = response.json()["order_id"]
    assert orderflow.payment(order_id)["state"] == "CAPTURED"
    assert orderflow.stock(sku) == {"available": 2, "reserved": 1, "stocked": 3}


def test_provider_down_through_every_retry_is_compensated(orderflow, sku):
    orderflow.put_stock(sku, available=3)

    response = orderflow.order([(sku, 1)], token="tok_unavailable")

    assert response.status_code == 503, response.text
    assert response.json()["reason"] == "PAYMENT_UNAVAILABLE"
    assert orderflow.stock(sku) == {"available": 3, "reserved": 0, "stocked": 3}
    payment = orderflow.payment(response.json()["order_id"])
    assert payment is None or payment["state"] != "CAPTURED"


def test_same_idempotency_key_gives_the_same_answer_and_one_order(orderflow, sku):
    orderflow.put_stock(sku, available=10)
    key = {"Idempotency-Key": f"key-{uuid.uuid4()}"}

    first = orderflow.order([(sku, 1)], headers=key)
    second = orderflow.order([(sku, 1)], headers=key)

    assert first.status_code == second.status_code == 201
    assert first.json()["order_id"] == second.json()["order_id"]
    assert orderflow.stock(sku) == {"available": 9, "reserved": 1, "stocked": 10}


def test_unknown_order_is_404(orderflow):
    response = orderflow.http.get(orderflow.url(f"/orders/{uuid.uuid4()}"))
    assert response.status_code == 404
    assert "error" in response.json()


def test_parallel_orders_never_oversell(orderflow, sku):
    stock, buyers = 5, 16
    orderflow.put_stock(sku, available=stock)

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda i: orderflow.order([(sku, 1)], customer_id=f"c-{i}"), range(buyers)))

    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == stock, codes
    assert codes.count(409) == buyers - stock, codes
    assert orderflow.stock(sku) == {"available": 0, "reserved": stock, "stocked": stock}
