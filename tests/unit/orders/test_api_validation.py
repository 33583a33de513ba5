"""POST /orders refuses bad input with 400/422 naming the field, and writes nothing when it does."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.unit.orders.builders import order_body


def _lines(count: int) -> list[dict[str, Any]]:
    return [{"sku": "SKU-1", "quantity": 1}] * count


def _without(key: str) -> dict[str, Any]:
    body = order_body()
    del body[key]
    return body


def _with_line(**line: Any) -> dict[str, Any]:
    return order_body(items=[{"sku": "SKU-1", "quantity": 1, **line}])


UNPROCESSABLE = [
    ("missing customer_id", _without("customer_id"), "customer_id"),
    ("missing items", _without("items"), "items"),
    ("missing payment", _without("payment"), "payment"),
    ("missing flow", _without("flow"), "flow"),
    ("missing token", order_body(payment={}), "payment.token"),
    ("extra top-level field", order_body(coupon="FREE"), "coupon"),
    ("extra line field", _with_line(price_cents=1), "items[0].price_cents"),
    ("extra payment field", order_body(payment={"token": "tok_visa", "cvc": "123"}), "payment.cvc"),
    ("quantity as string", _with_line(quantity="5"), "items[0].quantity"),
    ("quantity as bool", _with_line(quantity=True), "items[0].quantity"),
    ("quantity as float", _with_line(quantity=1.0), "items[0].quantity"),
    ("quantity zero", _with_line(quantity=0), "items[0].quantity"),
    ("quantity negative", _with_line(quantity=-3), "items[0].quantity"),
    ("quantity above cap", _with_line(quantity=1001), "items[0].quantity"),
    ("customer_id as number", order_body(customer_id=42), "customer_id"),
    ("customer_id empty", order_body(customer_id=""), "customer_id"),
    ("customer_id too long", order_body(customer_id="c" * 65), "customer_id"),
    ("items empty", order_body(items=[]), "items"),
    ("26 lines", order_body(items=_lines(26)), "items"),
    ("items not a list", order_body(items={"sku": "SKU-1", "quantity": 1}), "items"),
    ("line not an object", order_body(items=["SKU-1"]), "items[0]"),
    ("sku empty", _with_line(sku=""), "items[0].sku"),
    ("sku with a space", _with_line(sku="SKU 1"), "items[0].sku"),
    ("sku too long", _with_line(sku="S" * 65), "items[0].sku"),
    ("token empty", order_body(payment={"token": ""}), "payment.token"),
    ("token too long", order_body(payment={"token": "t" * 129}), "payment.token"),
    # Lengths count characters (code points), as JSON Schema's maxLength does: not UTF-16 units.
    ("token of 129 astral characters", order_body(payment={"token": "\U0001f600" * 129}), "payment.token"),
    ("token as number", order_body(payment={"token": 4242}), "payment.token"),
    ("bad flow", order_body(flow="saga"), "flow"),
    ("flow in other case", order_body(flow="Orchestrated"), "flow"),
]


@pytest.mark.parametrize(("case", "body", "field"), UNPROCESSABLE, ids=[c[0] for c in UNPROCESSABLE])
def test_invalid_body_is_422_naming_the_field_and_writes_nothing(client, tables, saga, case, body, field) -> None:
    response = client.post_order(body, headers={"Idempotency-Key": f"key-{uuid.uuid4()}"})

    assert response.status == 422, case
    assert response.body["error"] == "validation_error"
    fields = [detail["field"] for detail in response.body["details"]]
    assert field in fields, fields
    assert all(detail["location"] == "body" and detail["message"] for detail in response.body["details"])
    assert tables.orders() == [] and tables.idempotency() == [] and saga.calls == []


MALFORMED = [
    ("not JSON", "{customer_id: 1"),
    ("truncated JSON", '{"customer_id": "c", "items": ['),
    ("JSON array", "[1, 2]"),
    ("JSON string", '"an order"'),
    ("JSON number", "7"),
    ("JSON null", "null"),
    ("empty body", ""),
]


@pytest.mark.parametrize(("case", "raw"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_or_non_object_body_is_400(client, tables, saga, case, raw) -> None:
    response = client.call("POST", "/orders", raw=raw)

    assert response.status == 400, case
    assert response.body["error"] == "malformed_body"
    assert response.body["details"][0]["field"] == "body"
    assert tables.orders() == [] and saga.calls == []


def test_missing_body_is_400(client, tables) -> None:
    response = client.call("POST", "/orders")

    assert response.status == 400
    assert tables.orders() == []


def test_malformed_json_message_says_why(client) -> None:
    response = client.call("POST", "/orders", raw="{bad")

    assert response.body["details"][0]["message"].startswith("malformed JSON:")


def test_every_failing_field_is_reported_at_once(client) -> None:
    body = order_body(customer_id="", flow="nope", items=[{"sku": "SKU-1", "quantity": 0}, {"sku": "", "quantity": 1}])

    response = client.post_order(body)

    assert response.status == 422
    assert {d["field"] for d in response.body["details"]} >= {
        "customer_id",
        "flow",
        "items[0].quantity",
        "items[1].sku",
    }


def test_validation_errors_never_echo_the_token(client) -> None:
    token = "tok_" + "s" * 200  # too long: fails validation with the token as pydantic's input

    response = client.post_order(order_body(payment={"token": token}))

    assert response.status == 422
    assert "tok_sss" not in json.dumps(response.body)


@pytest.mark.parametrize("flow", ["choreographed", "orchestrated"])
def test_unknown_sku_is_422_naming_the_line_and_writes_nothing(client, tables, saga, flow) -> None:
    body = order_body(flow=flow, items=[{"sku": "SKU-1", "quantity": 1}, {"sku": "NO-SUCH-SKU", "quantity": 1}])

    response = client.post_order(body, headers={"Idempotency-Key": "k-unknown"})

    assert response.status == 422
    assert response.body["details"] == [
        {"field": "items[1].sku", "location": "body", "type": "unknown_sku", "message": "unknown sku 'NO-SUCH-SKU'"}
    ]
    assert tables.orders() == [] and tables.idempotency() == [] and saga.calls == []


def test_sku_without_a_price_is_refused_like_an_unknown_one(client, tables) -> None:
    response = client.post_order(order_body(items=[{"sku": "NOPRICE", "quantity": 1}]))

    assert response.status == 422
    assert response.body["details"][0]["field"] == "items[0].sku"
    assert tables.orders() == []


def test_duplicate_sku_lines_are_refused(client, tables) -> None:
    body = order_body(
        items=[{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-2", "quantity": 1}, {"sku": "SKU-1", "quantity": 2}]
    )

    response = client.post_order(body)

    assert response.status == 422
    assert [d["field"] for d in response.body["details"]] == ["items[2].sku"]
    assert tables.orders() == []


@pytest.mark.parametrize("key", ["", "k" * 129])
def test_bad_idempotency_key_header_is_422_naming_the_header(client, tables, key) -> None:
    response = client.post_order(order_body(), headers={"Idempotency-Key": key})

    assert response.status == 422
    assert response.body["details"][0]["field"] == "Idempotency-Key"
    assert response.body["details"][0]["location"] == "header"
    assert tables.orders() == []


def test_twenty_five_lines_and_quantity_cap_are_accepted(client, tables) -> None:
    skus = [f"SKU-{n}" for n in range(25)]
    import boto3

    inventory = boto3.resource("dynamodb").Table("inventory-test")
    for sku in skus:
        inventory.put_item(Item={"pk": f"SKU#{sku}", "sku": sku, "price_cents": 1})
    body = order_body(items=[{"sku": sku, "quantity": 1000} for sku in skus])

    response = client.post_order(body)

    assert response.status == 202
    assert tables.orders()[0]["total_cents"] == 25 * 1000


def test_a_token_of_128_astral_characters_fits_the_128_limit(client, tables) -> None:
    """JSON sends each as a surrogate pair (two UTF-16 units, 256 in all); the function reads 128
    characters, as the document's maxLength counts them."""
    body = order_body(payment={"token": "\U0001f600" * 128})
    assert "\\ud83d\\ude00" in json.dumps(body)

    response = client.post_order(body)

    assert response.status == 202, response.body
    assert len(tables.orders()) == 1


def test_unsupported_content_type_is_415(client, tables) -> None:
    response = client.call("POST", "/orders", body=order_body(), headers={"Content-Type": "text/plain"})

    assert response.status == 415
    assert tables.orders() == []


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/orders", "POST"),
        ("PUT", "/orders", "POST"),
        ("DELETE", "/orders/abc", "GET"),
        ("POST", "/orders/abc", "GET"),
        ("PATCH", "/orders/abc/timeline", "GET"),
    ],
)
def test_wrong_method_is_405_with_allow(client, method, path, allowed) -> None:
    response = client.call(method, path)

    assert response.status == 405
    assert response.headers["Allow"] == allowed
    assert response.body["error"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/", "/order", "/orders/abc/timeline/extra", "/inventory/SKU-1"])
def test_unknown_route_is_404_json(client, path) -> None:
    response = client.call("GET", path)

    assert response.status == 404
    assert response.body["error"] == "not_found"


def test_correlation_id_is_echoed_even_on_errors(client) -> None:
    response = client.call("POST", "/orders", raw="{", headers={"X-Correlation-Id": "corr-abc.1"})

    assert response.headers["X-Correlation-Id"] == "corr-abc.1"


def test_correlation_id_is_generated_when_missing_or_malformed(client) -> None:
    missing = client.call("GET", "/orders/unknown")
    malformed = client.call("GET", "/orders/unknown", headers={"X-Correlation-Id": "bad id with spaces"})

    for response in (missing, malformed):
        assert str(uuid.UUID(response.headers["X-Correlation-Id"])) == response.headers["X-Correlation-Id"]
