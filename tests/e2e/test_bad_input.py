"""Bad input on every route: a clear 400/422 naming the problem, and nothing written anywhere."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e

GOOD_ORDER = {
    "customer_id": "c-1",
    "items": [{"sku": "SKU", "quantity": 1}],
    "payment": {"token": "tok_visa"},
    "flow": "orchestrated",
}


def _order(**overrides):
    body = json.loads(json.dumps(GOOD_ORDER))
    body.update(overrides)
    return body


def _snapshot(orderflow) -> dict[str, int]:
    orderflow.cloud.wait_idle()
    ddb = orderflow.cloud.client("dynamodb")
    return {name: ddb.scan(TableName=name, Select="COUNT")["Count"] for name in ddb.list_tables()["TableNames"]}


BAD_ORDERS = [
    ("malformed json", "{not json", 400, None),
    ("not an object", "[1, 2]", 400, None),
    ("missing customer", {k: v for k, v in GOOD_ORDER.items() if k != "customer_id"}, 422, "customer_id"),
    ("missing items", {k: v for k, v in GOOD_ORDER.items() if k != "items"}, 422, "items"),
    ("extra field", _order(coupon="FREE"), 422, "coupon"),
    ("quantity zero", _order(items=[{"sku": "SKU", "quantity": 0}]), 422, "quantity"),
    ("quantity negative", _order(items=[{"sku": "SKU", "quantity": -3}]), 422, "quantity"),
    ("quantity as string", _order(items=[{"sku": "SKU", "quantity": "2"}]), 422, "quantity"),
    ("quantity as float", _order(items=[{"sku": "SKU", "quantity": 1.5}]), 422, "quantity"),
    ("no lines", _order(items=[]), 422, "items"),
    ("26 lines", _order(items=[{"sku": f"S{i}", "quantity": 1} for i in range(26)]), 422, "items"),
    ("customer not a string", _order(customer_id=42), 422, "customer_id"),
    ("bad flow", _order(flow="telepathic"), 422, "flow"),
    ("payment without token", _order(payment={}), 422, "token"),
    ("unknown sku", _order(items=[{"sku": "no-such-sku-anywhere", "quantity": 1}]), 422, "no-such-sku-anywhere"),
]


@pytest.mark.parametrize(("case", "body", "status", "names"), BAD_ORDERS, ids=[c[0] for c in BAD_ORDERS])
def test_bad_orders_are_refused_and_write_nothing(orderflow, sku, case, body, status, names):
    orderflow.put_stock(sku, available=5)
    text = json.dumps(body).replace('"SKU"', json.dumps(sku)) if isinstance(body, dict) else body
    before = _snapshot(orderflow)

    response = orderflow.http.post(orderflow.url("/orders"), data=text, headers={"Content-Type": "application/json"})

    assert response.status_code == status, (case, response.text)
    error = response.json()
    assert set(error) >= {"error", "details"}, error
    if names:
        assert names in json.dumps(error), (case, error)
    assert _snapshot(orderflow) == before, f"{case} wrote something"
    assert orderflow.stock(sku)["available"] == 5


BAD_STOCK = [
    ("malformed json", "{", 400, None),
    ("missing price", {"available": 3}, 422, "price_cents"),
    ("negative available", {"available": -1, "price_cents": 100}, 422, "available"),
    ("zero price", {"available": 1, "price_cents": 0}, 422, "price_cents"),
    ("string available", {"available": "3", "price_cents": 100}, 422, "available"),
    ("extra field", {"available": 3, "price_cents": 100, "color": "red"}, 422, "color"),
]


@pytest.mark.parametrize(("case", "body", "status", "names"), BAD_STOCK, ids=[c[0] for c in BAD_STOCK])
def test_bad_stock_updates_are_refused_and_write_nothing(orderflow, sku, case, body, status, names):
    before = _snapshot(orderflow)
    text = body if isinstance(body, str) else json.dumps(body)

    response = orderflow.http.put(orderflow.url(f"/inventory/{sku}"), data=text)

    assert response.status_code == status, (case, response.text)
    error = response.json()
    assert set(error) >= {"error", "details"}, error
    if names:
        assert names in json.dumps(error), (case, error)
    assert _snapshot(orderflow) == before
    assert orderflow.http.get(orderflow.url(f"/inventory/{sku}")).status_code == 404


def test_bad_sku_in_path_is_refused(orderflow):
    response = orderflow.http.put(orderflow.url("/inventory/bad%20sku!"), json={"available": 1, "price_cents": 1})
    assert response.status_code in (400, 422), response.text
    assert "sku" in response.text


@pytest.mark.parametrize("path", ["/orders", "/inventory/some-sku"])
def test_a_form_encoded_body_is_refused_with_415_and_writes_nothing(orderflow, path):
    before = _snapshot(orderflow)
    body = json.dumps(GOOD_ORDER)
    method = orderflow.http.post if path == "/orders" else orderflow.http.put

    response = method(orderflow.url(path), data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})

    assert response.status_code == 415, response.text
    assert response.json()["details"][0]["field"] == "Content-Type"
    assert "tok_visa" not in response.text
    assert _snapshot(orderflow) == before
