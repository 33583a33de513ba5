"""Stock changes that cannot race, through the local cloud's HTTP API: If-Match on PUT, and
adjustments applied once per Idempotency-Key; the invariant checker finds nothing afterwards."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def _error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "message", "details"}, body
    assert body["error"] == error, body
    return body


def test_get_put_if_match_stale_etag_and_a_repeated_adjustment(orderflow, ops, sku):
    url = orderflow.url(f"/inventory/{sku}")
    orderflow.put_stock(sku, available=10, price_cents=500)
    # an order holds 2 units: every write below must keep them reserved
    placed = orderflow.order([(sku, 2)])
    assert placed.status_code == 201, placed.text

    read = orderflow.http.get(url)
    assert read.status_code == 200, read.text
    etag = read.headers["ETag"]
    assert etag == f'"{read.json()["version"]}"'
    assert (read.json()["available"], read.json()["reserved"]) == (8, 2)

    updated = orderflow.http.put(url, json={"available": 20, "price_cents": 500}, headers={"If-Match": etag})
    assert updated.status_code == 200, updated.text
    assert updated.json()["version"] == read.json()["version"] + 1
    assert updated.headers["ETag"] == f'"{updated.json()["version"]}"'

    stale = orderflow.http.put(url, json={"available": 99, "price_cents": 1}, headers={"If-Match": etag})
    body = _error(stale, 412, "precondition_failed")
    assert body["details"][0]["context"]["current_version"] == updated.json()["version"]
    assert orderflow.stock(sku) == {"available": 20, "reserved": 2, "stocked": 22}

    adjustments = orderflow.url(f"/inventory/{sku}/adjustments")
    key = {"Idempotency-Key": f"restock-{sku}"}
    first = orderflow.http.post(adjustments, json={"delta": 5, "reason": "delivery"}, headers=key)
    again = orderflow.http.post(adjustments, json={"delta": 5, "reason": "delivery"}, headers=key)

    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json() == again.json()
    assert first.json()["available"] == 25
    assert first.json()["version"] == updated.json()["version"] + 1
    assert again.headers["Idempotent-Replayed"] == "true"
    assert orderflow.stock(sku) == {"available": 25, "reserved": 2, "stocked": 27}, "applied once"

    _error(orderflow.http.post(adjustments, json={"delta": 6}, headers=key), 422, "idempotency_key_conflict")
    _error(
        orderflow.http.post(adjustments, json={"delta": -26}, headers={"Idempotency-Key": f"take-{sku}"}),
        409,
        "insufficient_stock",
    )
    missing = orderflow.http.post(adjustments, json={"delta": 1})
    assert missing.status_code == 400, missing.text
    assert "Idempotency-Key" in missing.text
    too_big = orderflow.http.post(adjustments, json={"delta": 1_000_001}, headers={"Idempotency-Key": f"big-{sku}"})
    assert too_big.status_code == 422, too_big.text
    assert [d["field"] for d in too_big.json()["details"]] == ["delta"]
    assert orderflow.stock(sku) == {"available": 25, "reserved": 2, "stocked": 27}, "refusals change nothing"

    ops.assert_no_violations()
