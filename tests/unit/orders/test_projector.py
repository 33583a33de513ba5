"""orders-projector: outcome events move a choreographed order's status forward only."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.data.orders_repository import DynamoDBOrdersRepository
from orders.domain.models import STATUS_RANK, Order
from orders.handlers import projector
from shared.events import InventoryRejected, InventoryReserved, OrderLine, PaymentCompleted, PaymentFailed
from tests.unit.orders.builders import eventbridge_event, pending_order, sqs_event

LINES = [OrderLine(sku="SKU-1", quantity=1, unit_price_cents=1000)]


def _order(order_id: str, flow: str = "choreographed") -> Order:
    return pending_order(order_id, flow, customer_id="cust-p", correlation_id="corr-p")


def outcome(kind: str, order_id: str):
    return {
        "reserved": InventoryReserved(
            order_id=order_id, customer_id="cust-p", items=LINES, total_cents=1000, payment_ref="kms1:c2VhbGVk"
        ),
        "out_of_stock": InventoryRejected(order_id=order_id, reason="OUT_OF_STOCK", sku="SKU-1"),
        "paid": PaymentCompleted(order_id=order_id, amount_cents=1000, tax_cents=80, capture_id="cap-1"),
        "declined": PaymentFailed(order_id=order_id, reason="PAYMENT_DECLINED"),
        "unavailable": PaymentFailed(order_id=order_id, reason="PAYMENT_UNAVAILABLE"),
    }[kind]


# What each event would make the order, on its own.
EFFECT = {
    "reserved": ("RESERVED", None),
    "out_of_stock": ("REJECTED", "OUT_OF_STOCK"),
    "paid": ("CONFIRMED", None),
    "declined": ("REJECTED", "PAYMENT_DECLINED"),
    "unavailable": ("REJECTED", "PAYMENT_UNAVAILABLE"),
}


@pytest.fixture
def repository(aws):
    return DynamoDBOrdersRepository("orders-test")


@pytest.fixture
def project(repository, context):
    def deliver(*kinds: str, order_id: str, flow: str = "choreographed") -> dict:
        bodies = [eventbridge_event(outcome(kind, order_id), flow=flow) for kind in kinds]
        return projector.lambda_handler(sqs_event(*bodies), context)

    return deliver


def stored(order_id: str) -> dict:
    return boto3.resource("dynamodb").Table("orders-test").get_item(Key={"order_id": order_id})["Item"]


def test_happy_path_reserved_then_paid_is_confirmed_with_tax(repository, project) -> None:
    repository.create(_order("o-1"))

    project("reserved", order_id="o-1")
    assert stored("o-1")["status"] == "RESERVED" and stored("o-1")["status_rank"] == 1
    project("paid", order_id="o-1")

    item = stored("o-1")
    assert item["status"] == "CONFIRMED" and item["status_rank"] == 9
    assert item["tax_cents"] == 80 and item["total_cents"] == 1000


def test_payment_before_reservation_still_converges_to_confirmed(repository, project) -> None:
    repository.create(_order("o-2"))

    project("paid", "reserved", order_id="o-2")

    assert stored("o-2")["status"] == "CONFIRMED"


@pytest.mark.parametrize(("kind", "reason"), [("out_of_stock", "OUT_OF_STOCK"), ("declined", "PAYMENT_DECLINED")])
def test_rejections_record_the_reason(repository, project, kind, reason) -> None:
    repository.create(_order("o-3"))

    project(kind, order_id="o-3")

    assert stored("o-3")["status"] == "REJECTED" and stored("o-3")["reason"] == reason


def test_late_confirmation_does_not_undo_a_rejection(repository, project) -> None:
    repository.create(_order("o-4"))

    project("declined", "paid", "reserved", order_id="o-4")

    assert stored("o-4")["status"] == "REJECTED" and "tax_cents" not in stored("o-4")


def test_orchestrated_events_are_left_to_the_saga(repository, project) -> None:
    repository.create(_order("o-5", flow="orchestrated"))

    assert project("paid", order_id="o-5", flow="orchestrated") == {"batchItemFailures": []}

    assert stored("o-5")["status"] == "PENDING"


def test_event_for_an_unknown_order_fails_its_record_only(repository, project, context) -> None:
    repository.create(_order("o-6"))
    good = eventbridge_event(outcome("reserved", "o-6"))
    orphan = eventbridge_event(outcome("reserved", "nobody"))
    event = sqs_event(good, orphan, "not json")

    response = projector.lambda_handler(event, context)

    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert failed == {event["Records"][1]["messageId"], event["Records"][2]["messageId"]}
    assert stored("o-6")["status"] == "RESERVED"


def test_projection_counts_terminal_transitions_once(repository, project, capsys) -> None:
    repository.create(_order("o-7"))
    capsys.readouterr()

    project("reserved", "out_of_stock", "out_of_stock", "declined", order_id="o-7")

    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    rejected = [m for m in metrics if "OrderRejected" in m]
    assert len(rejected) == 1
    assert rejected[0]["reason"] == "OUT_OF_STOCK" and rejected[0]["flow"] == "choreographed"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(st.sampled_from(sorted(EFFECT)), min_size=1, max_size=8), st.integers(min_value=1, max_value=3))
def test_any_order_of_any_events_with_duplicates_only_moves_forward(repository, context, kinds, batch_size) -> None:
    """Whatever arrives, in whatever order, as often as it likes: rank never drops, first terminal wins."""
    order_id = str(uuid.uuid4())  # a fresh order per example, in the same tables
    repository.create(_order(order_id))
    ranks = [0]
    for start in range(0, len(kinds), batch_size):
        chunk = kinds[start : start + batch_size]
        projector.lambda_handler(sqs_event(*(eventbridge_event(outcome(k, order_id)) for k in chunk)), context)
        ranks.append(int(stored(order_id)["status_rank"]))

    assert ranks == sorted(ranks), "status moved backwards"
    terminal = next((EFFECT[k] for k in kinds if EFFECT[k][0] in ("CONFIRMED", "REJECTED")), None)
    item = stored(order_id)
    if terminal is not None:
        assert (item["status"], item.get("reason")) == terminal
    else:
        assert item["status"] == "RESERVED"
    assert item["status_rank"] == STATUS_RANK[item["status"]]
