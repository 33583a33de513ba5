"""Right when a step commits and its answer is lost: each failure class judged for the whole order.

A confirm that lands after its timeout, a capture whose answer the processor lost, the same step
running twice at once, a retry while the saga still runs, a redriven payment workflow after a
refund, an orchestrated outcome whose announcement fails, a saga that never finishes. Each test
ends with the invariant checker (money, stock, shipment, status) finding nothing.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import time
import uuid
from datetime import datetime, timedelta

import pytest

from ops.redrive import redrive
from orders.domain.models import new_order_id
from payments.data.simulated_provider import derive_id
from tests.e2e.faults import TERMINAL, BusCapture, Ops, poll
from tests.support.stack_context import PAST_THE_TASK_TIMEOUT_MS

pytestmark = pytest.mark.e2e

RECONCILE_SCHEDULE = "OrdersReconcileSchedule"


def _sku(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _keyed(orderflow, sku: str, *, quantity: int = 2, flow: str = "orchestrated", token: str = "tok_visa"):
    customer, key = f"c-{uuid.uuid4().hex[:6]}", f"key-{uuid.uuid4()}"
    order_id = new_order_id(customer, key)

    def place():
        return orderflow.order(
            [(sku, quantity)], token=token, flow=flow, customer_id=customer, headers={"Idempotency-Key": key}
        )

    return order_id, place


def _decided(orderflow, order_id: str) -> dict:
    def terminal():
        got = orderflow.http.get(orderflow.url(f"/orders/{order_id}"), timeout=30)
        return got.json() if got.status_code == 200 and got.json()["status"] in TERMINAL else None

    return poll(terminal, timeout=120, interval=0.5, what=f"a decision for {order_id}")


def _ledger_charge(ops: Ops, order_id: str) -> tuple[int, int, int]:
    """(held, captured, refunded) on the simulated processor's own ledger for one order."""
    ledger = ops.payments_items()
    authorization = ledger.get(f"SIM#AUTH#{derive_id('auth', f'authorize:{order_id}')}")
    held = int(authorization["amount_cents"]) if authorization and authorization["state"] == "AUTHORIZED" else 0
    capture = ledger.get(f"SIM#CAP#{derive_id('cap', f'capture:{order_id}')}")
    captured = int(capture["amount_cents"]) if capture else 0
    refunded = int(capture.get("refunded_cents", 0)) if capture else 0
    return held, captured, refunded


def _executions(orderflow, order_id: str) -> int:
    """Saga executions that ran forward for the order: each charges it exactly once (one
    ChargePayment invocation, which no fault here retries). Express executions cannot be
    listed, on AWS as here, and the saga's first step (ReadOrder) runs no function to count."""
    function = orderflow.stack.get_logical_id(orderflow.stack.payments.tasks.function.node.default_child)
    charges = 0
    for line in orderflow.cloud.logs(function):
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if entry.get("order_id") == order_id and entry.get("action") == "charge" and "done" in entry["message"]:
                charges += 1
    return charges


@pytest.mark.parametrize(
    "late_confirm",
    [
        {"phase": "after", "latency_ms": PAST_THE_TASK_TIMEOUT_MS},  # commits, then answers past the task timeout
        {"latency_ms": PAST_THE_TASK_TIMEOUT_MS},  # waits first: the write lands after the task already timed out
    ],
    ids=["answer-late", "write-late"],
)
def test_a_confirm_that_lands_after_its_timeout_is_never_compensated(orderflow, ops, faults, late_confirm):
    """The pivot: the write landed, the task timed out through every retry; RejectOrder finds it."""
    sku = _sku("pivot")
    orderflow.put_stock(sku, available=5)
    order_id, place = _keyed(orderflow, sku)

    with faults.injected({"orders.confirm": late_confirm}):
        response = place()
        assert response.status_code in (201, 202), response.text
        order = _decided(orderflow, order_id)
        orderflow.cloud.wait_idle(timeout=180)  # the execution runs out its retries, then answers

    assert order["status"] == "CONFIRMED"
    assert orderflow.payment(order_id)["state"] == "CAPTURED"  # never refunded
    assert orderflow.stock(sku) == {"available": 3, "reserved": 2, "stocked": 5}  # never released
    assert orderflow.shipment(order_id) is not None
    _, captured, refunded = _ledger_charge(ops, order_id)
    assert captured == int(orderflow.order_item(order_id)["total_cents"]) + int(order["tax_cents"]) and refunded == 0
    ops.assert_no_violations()


def test_the_full_amount_is_authorized_and_exactly_that_is_captured(orderflow, ops):
    sku = _sku("amount")
    orderflow.put_stock(sku, available=5, price_cents=1999)
    order_id, place = _keyed(orderflow, sku, quantity=3)

    response = place()

    assert response.status_code == 201, response.text
    body = response.json()
    total = body["total_cents"] + body["tax_cents"]
    ledger = ops.payments_items()
    authorization = ledger[f"SIM#AUTH#{derive_id('auth', f'authorize:{order_id}')}"]
    assert int(authorization["amount_cents"]) == total  # the hold includes the tax
    assert _ledger_charge(ops, order_id)[1:] == (total, 0)
    ops.assert_no_violations()


def test_a_capture_whose_answer_the_processor_lost_is_found_and_refunded(orderflow, ops, faults):
    """The processor captured, its answer never came back (every attempt): compensation refunds it."""
    sku = _sku("lostcap")
    orderflow.put_stock(sku, available=5)
    order_id, place = _keyed(orderflow, sku)

    with faults.injected({"payments.processor_capture": {"phase": "lost_response"}}):
        response = place()
        order = _decided(orderflow, order_id)
        orderflow.cloud.wait_idle(timeout=180)

    assert response.status_code in (202, 503), response.text
    assert (order["status"], order["reason"]) == ("REJECTED", "PAYMENT_UNAVAILABLE")
    held, captured, refunded = _ledger_charge(ops, order_id)
    assert captured > 0 and refunded == captured and held == 0  # charged by the processor, all given back
    assert orderflow.payment(order_id)["state"] == "REFUNDED"
    assert orderflow.stock(sku) == {"available": 5, "reserved": 0, "stocked": 5}
    ops.assert_no_violations()


@pytest.mark.parametrize("flow", ["orchestrated", "choreographed"])
def test_every_step_running_twice_at_once_charges_and_reserves_once(orderflow, ops, faults, flow):
    sku = _sku("twice")
    orderflow.put_stock(sku, available=5)
    order_id, place = _keyed(orderflow, sku, flow=flow)
    twice = {"phase": "duplicate"}
    document = {
        "orders.confirm": twice,
        "orders.project": twice,
        "inventory.reserve": twice,
        "payments.calculate_tax": twice,
        "payments.charge": twice,
        "payments.authorize": twice,
        "payments.capture": twice,
        "payments.start_workflow": twice,
        "shipping.schedule": twice,
    }

    with faults.injected(document):
        response = place()
        order = _decided(orderflow, order_id)
        orderflow.cloud.wait_idle(timeout=120)

    assert response.status_code in (201, 202), response.text
    assert order["status"] == "CONFIRMED"
    assert orderflow.stock(sku) == {"available": 3, "reserved": 2, "stocked": 5}
    _, captured, refunded = _ledger_charge(ops, order_id)
    assert captured == order["total_cents"] + order["tax_cents"] and refunded == 0
    ops.assert_no_violations()


def test_a_retry_while_the_saga_runs_never_starts_a_second_execution(orderflow, ops, faults):
    sku = _sku("oneexec")
    orderflow.put_stock(sku, available=5)
    order_id, place = _keyed(orderflow, sku)

    # every confirm lands, then answers past the task timeout: the saga outlives the API's budget
    with faults.injected({"orders.confirm": {"phase": "after", "latency_ms": PAST_THE_TASK_TIMEOUT_MS}}):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            first = pool.submit(place)
            # the same request again while the first one waits for the saga (the client timed out)
            poll(lambda: _executions(orderflow, order_id), timeout=30, interval=0.2, what="the first execution")
            during = place()
            answer = first.result()
        after = place()  # the first answered 202: a retry now, the saga still running or just decided
        assert answer.status_code in (201, 202), answer.text
        assert during.status_code in (409, 202), during.text  # in progress, or the stored PENDING
        assert after.status_code in (201, 202), after.text
        order = _decided(orderflow, order_id)
        orderflow.cloud.wait_idle(timeout=180)

    assert _executions(orderflow, order_id) == 1
    assert order["status"] == "CONFIRMED"
    again = place()
    assert again.status_code == 201 and again.json()["order_id"] == order_id
    assert _executions(orderflow, order_id) == 1
    ops.assert_no_violations()


def test_an_orchestrated_outcome_always_ships_even_when_its_announcement_fails(orderflow, ops, faults):
    """The decision and its OrderConfirmed are one write: the relay retries, then parks; redrive ships."""
    sku = _sku("announce")
    orderflow.put_stock(sku, available=5)
    order_id, place = _keyed(orderflow, sku)

    with faults.injected({"orders.relay": {"outage": True}}):
        response = place()
        assert response.status_code == 201, response.text
        orderflow.cloud.wait_idle(timeout=120)  # the stream mapping retries, then parks the batch
        assert orderflow.shipment(order_id) is None
    results = redrive(ops.clients, ops.resources, ["orders-relay"])
    assert results["orders-relay"].moved >= 1, results["orders-relay"].errors
    orderflow.cloud.wait_idle(timeout=120)

    assert orderflow.shipment(order_id) is not None
    ops.assert_no_violations()


def test_a_redriven_payment_workflow_after_a_refund_never_charges_again(orderflow, ops, faults):
    """Final states are final: the documented runbook (redrive the workflow) meets a REFUNDED payment."""
    sku = _sku("final")
    orderflow.put_stock(sku, available=5)
    order_id, place = _keyed(orderflow, sku, flow="choreographed")

    # The payment is captured, but the order's projection is down: the order stays undecided
    # until the reconciler rejects it past its deadline; OrderRejected then refunds the payment.
    with faults.injected({"orders.project": {"outage": True}}):
        assert place().status_code == 202
        poll(
            lambda: (orderflow.payment(order_id) or {}).get("state") == "CAPTURED",
            timeout=60,
            what="the capture",
        )
        orderflow.cloud.wait_idle(timeout=120)
    deadline = datetime.fromisoformat(orderflow.order_item(order_id)["deadline"].replace("Z", "+00:00"))
    orderflow.cloud.scheduler.fire(RECONCILE_SCHEDULE, at=deadline + timedelta(seconds=1))
    order = _decided(orderflow, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "DECISION_TIMEOUT")
    poll(lambda: (orderflow.payment(order_id) or {}).get("state") == "REFUNDED", timeout=60, what="the refund")
    orderflow.cloud.wait_idle(timeout=120)

    # The runbook: redrive what the outage parked, and re-run the payment workflow from its input.
    payment = orderflow.payment(order_id)
    workflow_input = {
        "order_id": order_id,
        "customer_id": orderflow.order_item(order_id)["customer_id"],
        "amount_cents": int(payment["amount_cents"]),
        "payment_ref": orderflow.order_item(order_id)["payment_ref"],
        "correlation_id": orderflow.order_item(order_id)["correlation_id"],
        "flow": "choreographed",
    }
    ops.clients.sqs.send_message(QueueUrl=ops.dlq_url("payment-workflow"), MessageBody=json.dumps(workflow_input))
    with BusCapture(ops) as bus:
        results = redrive(ops.clients, ops.resources, ["orders-projector", "payment-workflow"])
        assert results["payment-workflow"].moved == 1, results["payment-workflow"].errors
        orderflow.cloud.wait_idle(timeout=120)
        published = [e["detail-type"] for e in bus.of_orders([order_id])]

    assert "PaymentCompleted" not in published
    assert orderflow.payment(order_id)["state"] == "REFUNDED"
    assert orderflow.order_item(order_id)["status"] == "REJECTED"
    held, captured, refunded = _ledger_charge(ops, order_id)
    assert (held, refunded) == (0, captured)
    assert orderflow.stock(sku) == {"available": 5, "reserved": 0, "stocked": 5}
    ops.assert_no_violations()


def test_a_saga_that_never_finishes_is_decided_and_compensated_by_the_reconciler(orderflow, ops, faults):
    """Stock reserved and money captured, then the execution dies without parking anything (as a
    timed-out or aborted saga does): past the order's deadline the reconciler gives it all back."""
    sku = _sku("stuck")
    orderflow.put_stock(sku, available=5)
    order_id, place = _keyed(orderflow, sku)

    with faults.injected({"orders.confirm": {"outage": True}, "orders.reject": {"outage": True}}):
        response = place()
        orderflow.cloud.wait_idle(timeout=180)
    assert response.status_code == 202 and response.json()["status"] == "PENDING", response.text
    assert orderflow.payment(order_id)["state"] == "CAPTURED"
    assert orderflow.stock(sku)["reserved"] == 2
    # What the execution parked is dropped: a saga that timed out parks nothing.
    ops.receive_all(ops.dlq_url("saga"), delete=True)

    stored = orderflow.order_item(order_id)
    deadline = datetime.fromisoformat(stored["deadline"].replace("Z", "+00:00"))
    orderflow.cloud.scheduler.fire(RECONCILE_SCHEDULE, at=deadline - timedelta(seconds=5))
    orderflow.cloud.wait_idle(timeout=60)
    assert orderflow.order_item(order_id)["status"] == "PENDING"  # its lease still runs: left alone
    started = time.monotonic()
    orderflow.cloud.scheduler.fire(RECONCILE_SCHEDULE, at=deadline + timedelta(seconds=1))
    order = _decided(orderflow, order_id)
    orderflow.cloud.wait_idle(timeout=120)

    assert (order["status"], order["reason"]) == ("REJECTED", "DECISION_TIMEOUT")
    assert orderflow.payment(order_id)["state"] == "REFUNDED"
    assert orderflow.stock(sku) == {"available": 5, "reserved": 0, "stocked": 5}
    assert orderflow.shipment(order_id) is None
    assert "undecided" not in orderflow.order_item(order_id)
    print(f"reconciler: decided and compensated {time.monotonic() - started:.1f} s after it fired")
    ops.assert_no_violations()


def test_a_choreographed_order_rejected_while_its_payment_is_stuck_is_never_charged(orderflow, ops, faults):
    """The reconciler rejects an order whose InventoryReserved waits in a DLQ; the redrive that
    later starts its payment workflow finds the order's VOIDED marker and holds nothing."""
    sku = _sku("stuckpay")
    orderflow.put_stock(sku, available=5)
    order_id, place = _keyed(orderflow, sku, flow="choreographed")

    with faults.injected({"payments.start_workflow": {"outage": True}}):
        assert place().status_code == 202
        poll(lambda: ops.depth(ops.dlq_url("payments")) > 0, timeout=90, what="InventoryReserved parked")
        orderflow.cloud.wait_idle(timeout=120)
    assert orderflow.payment(order_id) is None
    deadline = datetime.fromisoformat(orderflow.order_item(order_id)["deadline"].replace("Z", "+00:00"))
    orderflow.cloud.scheduler.fire(RECONCILE_SCHEDULE, at=deadline + timedelta(seconds=1))
    order = _decided(orderflow, order_id)
    orderflow.cloud.wait_idle(timeout=120)
    assert (order["status"], order["reason"]) == ("REJECTED", "DECISION_TIMEOUT")

    results = redrive(ops.clients, ops.resources, ["payments"])  # the runbook, once the outage is over
    assert results["payments"].moved >= 1, results["payments"].errors
    orderflow.cloud.wait_idle(timeout=120)

    assert orderflow.payment(order_id)["state"] == "VOIDED"
    assert _ledger_charge(ops, order_id) == (0, 0, 0)
    assert orderflow.stock(sku) == {"available": 5, "reserved": 0, "stocked": 5}
    ops.assert_no_violations()
