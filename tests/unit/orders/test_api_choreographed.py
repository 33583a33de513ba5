"""POST /orders with flow=choreographed, idempotency, and GET /orders/{id}."""

from __future__ import annotations

import json
import uuid

import boto3

from shared.payment_ref import fingerprint
from tests.unit.orders.builders import PRICED_LINES, PRICED_TOTAL, order_body
from tests.unit.orders.conftest import open_ref


def test_choreographed_order_is_one_pending_item_answered_202_with_location(client, tables) -> None:
    response = client.post_order(order_body(), headers={"X-Correlation-Id": "corr-1"})

    assert response.status == 202
    order_id = response.body["order_id"]
    assert response.body == {"order_id": order_id, "status": "PENDING", "flow": "choreographed"}
    assert response.headers["Location"] == f"/orders/{order_id}"
    assert response.headers["X-Correlation-Id"] == "corr-1"
    [item] = tables.orders()
    assert item["order_id"] == order_id
    assert item["status"] == "PENDING" and item["status_rank"] == 0
    assert item["flow"] == "choreographed"
    assert item["customer_id"] == "cust-42"
    assert item["items"] == PRICED_LINES
    assert item["total_cents"] == PRICED_TOTAL
    # The card token is not stored: a reference only payments can open (for this order), and a
    # fingerprint that recognises a retry.
    assert item["payment_ref"].startswith("kms2:") and open_ref(order_id, item["payment_ref"]) == "tok_visa"
    assert item["payment_fingerprint"] == fingerprint(order_id, "tok_visa")
    assert "payment_token" not in item and "tok_visa" not in json.dumps(item, default=str)
    assert item["correlation_id"] == "corr-1"
    assert item["created_at"] == item["updated_at"] and item["created_at"].endswith("Z")
    assert str(uuid.UUID(order_id)) == order_id


def test_without_idempotency_key_each_request_is_a_new_order(client, tables) -> None:
    first = client.post_order(order_body())
    second = client.post_order(order_body())

    assert first.body["order_id"] != second.body["order_id"]
    assert len(tables.orders()) == 2


def test_same_idempotency_key_gives_same_response_and_one_order(client, tables) -> None:
    headers = {"Idempotency-Key": "checkout-7"}

    first = client.post_order(order_body(), headers=headers)
    second = client.post_order(order_body(), headers=headers)

    assert first.status == second.status == 202
    assert first.body == second.body
    assert first.headers["Location"] == second.headers["Location"]
    assert len(tables.orders()) == 1
    assert len(tables.idempotency()) == 1


def test_same_key_with_a_different_body_is_422_and_writes_nothing_more(client, tables) -> None:
    headers = {"Idempotency-Key": "checkout-8"}
    client.post_order(order_body(), headers=headers)
    before = tables.orders()

    changed = client.post_order(order_body(items=[{"sku": "SKU-1", "quantity": 3}]), headers=headers)
    other_customer = client.post_order(order_body(customer_id="someone-else"), headers=headers)

    for response in (changed, other_customer):
        assert response.status == 422
        assert response.body["error"] == "idempotency_key_conflict"
        assert response.body["details"][0]["field"] == "Idempotency-Key"
    assert tables.orders() == before


def test_idempotent_retry_after_the_record_expired_still_finds_the_same_order(client, tables) -> None:
    headers = {"Idempotency-Key": "checkout-9"}
    first = client.post_order(order_body(), headers=headers)
    # The idempotency record expires (TTL); the deterministic order id is the second guard.
    idempotency = boto3.resource("dynamodb").Table("idempotency-test")
    for record in tables.idempotency():
        idempotency.delete_item(Key={"id": record["id"]})

    again = client.post_order(order_body(), headers=headers)
    idempotency_items = tables.idempotency()
    for record in idempotency_items:
        idempotency.delete_item(Key={"id": record["id"]})
    different = client.post_order(order_body(payment={"token": "tok_other"}), headers=headers)

    assert again.status == 202 and again.body == first.body
    assert different.status == 422
    assert len(tables.orders()) == 1


def test_a_retry_is_recognised_by_the_token_fingerprint_not_the_reference(client, tables) -> None:
    headers = {"Idempotency-Key": "fp-1"}
    first = client.post_order(order_body(), headers=headers)
    [stored] = tables.orders()
    idempotency = boto3.resource("dynamodb").Table("idempotency-test")

    def forget_the_idempotency_record() -> None:  # it expired: the order itself decides
        for record in tables.idempotency():
            idempotency.delete_item(Key={"id": record["id"]})

    forget_the_idempotency_record()
    same = client.post_order(order_body(), headers=headers)
    forget_the_idempotency_record()
    other_card = client.post_order(order_body(payment={"token": "tok_mastercard"}), headers=headers)

    assert same.status == 202 and same.body == first.body
    assert other_card.status == 422 and other_card.body["error"] == "idempotency_key_conflict"
    # The order keeps its first reference (a retry seals the token again, into a new ciphertext,
    # but records nothing).
    assert tables.orders() == [stored]
    assert "tok_" not in json.dumps(tables.idempotency(), default=str)


def test_get_order_returns_the_order_without_the_token(client) -> None:
    placed = client.post_order(order_body(payment={"token": "tok_visa_secret"}), headers={"X-Correlation-Id": "c-9"})
    order_id = placed.body["order_id"]

    response = client.call("GET", f"/orders/{order_id}")

    assert response.status == 200
    body = response.body
    assert set(body) == {
        "order_id",
        "status",
        "flow",
        "items",
        "total_cents",
        "customer_id",
        "created_at",
        "updated_at",
        "correlation_id",
    }
    assert body["order_id"] == order_id and body["status"] == "PENDING" and body["flow"] == "choreographed"
    assert body["total_cents"] == 2999 and body["customer_id"] == "cust-42" and body["correlation_id"] == "c-9"
    assert "tok_visa_secret" not in json.dumps(body)


def test_get_order_shows_reason_and_tax_once_known(client) -> None:
    order_id = client.post_order(order_body()).body["order_id"]
    table = boto3.resource("dynamodb").Table("orders-test")
    table.update_item(
        Key={"order_id": order_id},
        UpdateExpression="SET #s = :s, reason = :r",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "REJECTED", ":r": "PAYMENT_DECLINED"},
    )

    body = client.call("GET", f"/orders/{order_id}").body

    assert body["status"] == "REJECTED" and body["reason"] == "PAYMENT_DECLINED"


def test_get_unknown_order_is_404_json(client) -> None:
    response = client.call("GET", f"/orders/{uuid.uuid4()}")

    assert response.status == 404
    assert response.body["error"] == "order_not_found"


def test_get_absurdly_long_order_id_is_404_not_a_crash(client) -> None:
    response = client.call("GET", "/orders/" + "x" * 5000)

    assert response.status == 404


def test_choreographed_placement_counts_order_placed(client, capsys) -> None:
    capsys.readouterr()

    client.post_order(order_body())

    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    placed = [m for m in metrics if "OrderPlaced" in m]
    assert len(placed) == 1
    assert placed[0]["flow"] == "choreographed"
    assert placed[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "orderflow"
