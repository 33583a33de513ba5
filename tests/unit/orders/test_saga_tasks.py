"""orders-tasks: record / confirm (the pivot) / reject: idempotent, forward-only, answering the stored decision."""

from __future__ import annotations

import json

import pytest

from orders.domain.errors import OrderConflictError, OrderNotFoundError
from orders.handlers import saga_tasks
from orders.handlers.saga_tasks import InvalidTaskError
from tests.support.events import saga_task


def record_payload(order_id: str = "o-1", **overrides):
    # The state machine passes its whole state: unknown fields are ignored.
    state = {"payment_ref": "kms1:dG9rX3Zpc2E=", "correlation_id": "corr-s", "reservation": {"status": "RESERVED"}}
    return saga_task("record", order_id, **{**state, **overrides})


@pytest.fixture
def run(aws, context):
    def invoke(payload):
        return saga_tasks.lambda_handler(payload, context)

    return invoke


def _metrics(out: str, name: str) -> list[dict]:
    return [m for m in (json.loads(line) for line in out.splitlines() if '"_aws"' in line) if name in m]


PENDING = {"status": "PENDING", "reason": None, "tax_cents": None}


def test_record_stores_a_pending_order_holding_its_saga_lease(run, tables) -> None:
    assert run(record_payload()) == PENDING

    [item] = tables.orders()
    assert item["status"] == "PENDING" and item["status_rank"] == 0 and item["flow"] == "orchestrated"
    # a re-run from a parked input records the order itself: it is undecided until its deadline
    assert item["undecided"].startswith("PENDING#") and item["deadline"] > item["created_at"]
    assert item["total_cents"] == 2500 and item["correlation_id"] == "corr-s"
    assert "reservation" not in item


def test_record_retried_returns_the_stored_status(run, tables) -> None:
    run(record_payload())
    run({"action": "confirm", "order_id": "o-1", "correlation_id": "corr-s"})

    assert run(record_payload()) == {"status": "CONFIRMED", "reason": None, "tax_cents": None}
    assert len(tables.orders()) == 1
    assert "undecided" not in tables.orders()[0]  # a decided order leaves the reconciler's index


def decision(result: dict) -> dict:
    """The stored decision without empty keys (every key is always present for the saga's end states)."""
    assert set(result) == {"status", "reason", "tax_cents"}
    return {k: v for k, v in result.items() if v is not None}


def test_record_of_a_different_order_under_the_same_id_raises(run) -> None:
    run(record_payload())

    with pytest.raises(OrderConflictError):
        run(record_payload(total_cents=9999))


def test_confirm_and_duplicate_confirm(run, tables, capsys) -> None:
    run(record_payload())
    capsys.readouterr()

    first = run({"action": "confirm", "order_id": "o-1", "correlation_id": "c", "tax_cents": 200})
    second = run({"action": "confirm", "order_id": "o-1", "correlation_id": "c"})

    assert decision(first) == decision(second) == {"status": "CONFIRMED", "tax_cents": 200}
    [item] = tables.orders()
    assert item["status_rank"] == 9 and item["tax_cents"] == 200
    out = capsys.readouterr().out
    confirmed = _metrics(out, "OrderConfirmed")
    assert len(confirmed) == 1 and confirmed[0]["flow"] == "orchestrated"
    # the time to decision, once, from the order's creation to the confirm
    [decided] = _metrics(out, "TimeToDecision")
    assert decided["flow"] == "orchestrated" and decided["service"] == "orders"
    [milliseconds] = (
        decided["TimeToDecision"] if isinstance(decided["TimeToDecision"], list) else [decided["TimeToDecision"]]
    )
    assert 0 <= milliseconds < 60_000


def test_confirm_never_flips_a_rejected_order(run, tables) -> None:
    run(record_payload())
    assert decision(run({"action": "reject", "order_id": "o-1", "correlation_id": "c", "reason": "OUT_OF_STOCK"})) == {
        "status": "REJECTED",
        "reason": "OUT_OF_STOCK",
    }

    assert decision(run({"action": "confirm", "order_id": "o-1", "correlation_id": "c"})) == {
        "status": "REJECTED",
        "reason": "OUT_OF_STOCK",
    }
    assert tables.orders()[0]["status"] == "REJECTED"


def test_reject_never_flips_a_confirmed_order(run, tables) -> None:
    run(record_payload())
    run({"action": "confirm", "order_id": "o-1", "correlation_id": "c"})

    assert decision(
        run({"action": "reject", "order_id": "o-1", "correlation_id": "c", "reason": "PAYMENT_DECLINED"})
    ) == {"status": "CONFIRMED"}
    assert "reason" not in tables.orders()[0]


def test_reject_counts_the_reason(run, capsys) -> None:
    run(record_payload())
    capsys.readouterr()

    run({"action": "reject", "order_id": "o-1", "correlation_id": "c", "reason": "PAYMENT_DECLINED"})
    run({"action": "reject", "order_id": "o-1", "correlation_id": "c", "reason": "PAYMENT_DECLINED"})

    [rejected] = _metrics(capsys.readouterr().out, "OrderRejected")
    assert rejected["reason"] == "PAYMENT_DECLINED" and rejected["flow"] == "orchestrated"


@pytest.mark.parametrize("action", ["confirm", "reject"])
def test_steps_on_an_unknown_order_raise_so_the_saga_retries(run, action) -> None:
    with pytest.raises(OrderNotFoundError):
        run({"action": action, "order_id": "missing", "correlation_id": "c", "reason": "OUT_OF_STOCK"})


@pytest.mark.parametrize(
    "payload",
    [
        {"action": "explode", "order_id": "o", "correlation_id": "c"},
        {"order_id": "o", "correlation_id": "c"},
        record_payload(payment_ref=12345678),
        record_payload(items=[]),
        record_payload(total_cents=0),
        {"action": "confirm", "correlation_id": "c"},
    ],
)
def test_payload_outside_the_contract_raises_without_echoing_values(run, payload) -> None:
    with pytest.raises(InvalidTaskError) as raised:
        run(payload)

    assert "12345678" not in str(raised.value) and "dG9rX3Zpc2E" not in str(raised.value)


def test_announce_is_no_longer_a_task(run) -> None:
    """The outcome's announcement is the outbox relay's (one write with the decision), not a saga step."""
    with pytest.raises(InvalidTaskError):
        run({"action": "announce", "order_id": "o-1", "correlation_id": "c"})


def test_record_counts_order_placed_once(run, capsys) -> None:
    capsys.readouterr()

    run(record_payload())
    run(record_payload())

    [placed] = _metrics(capsys.readouterr().out, "OrderPlaced")
    assert placed["flow"] == "orchestrated"
