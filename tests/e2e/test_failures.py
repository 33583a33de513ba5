"""Correctness under failure, end to end: duplicates, disorder, contention, faults, poison messages.

Every test drives the app on the local cloud, waits by polling (`wait_idle`, bounded loops; the
one fixed wait is the fault document's cache TTL, see tests/e2e/faults.py), and ends with the
invariant checker (`ops.checker.check(..., settled=True)`) finding no violations.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from ops.redrive import redrive
from ops.replay import replay
from orders.domain.models import new_order_id
from payments.data.simulated_provider import derive_id
from tests.e2e.faults import (
    TERMINAL,
    BusCapture,
    Ops,
    detail_types,
    diff,
    duplicate_event_ids,
    effects,
    poll,
    republish,
    timeline,
)
from tests.support.stack_context import PAST_THE_TASK_TIMEOUT_MS

pytestmark = pytest.mark.e2e

FLOWS = ("orchestrated", "choreographed")
# What the API answers right away, per flow and outcome.
ANSWER = {
    ("orchestrated", "CONFIRMED"): 201,
    ("orchestrated", "PAYMENT_DECLINED"): 402,
    ("orchestrated", "OUT_OF_STOCK"): 409,
    ("choreographed", "CONFIRMED"): 202,
    ("choreographed", "PAYMENT_DECLINED"): 202,
    ("choreographed", "OUT_OF_STOCK"): 202,
}
# The events each outcome produces on the bus, in both flows (once per event id).
EVENTS_OF = {
    "CONFIRMED": {"OrderPlaced", "InventoryReserved", "PaymentCompleted", "OrderConfirmed", "ShipmentScheduled"},
    "PAYMENT_DECLINED": {"OrderPlaced", "InventoryReserved", "PaymentFailed", "InventoryReleased", "OrderRejected"},
    "OUT_OF_STOCK": {"OrderPlaced", "InventoryRejected", "OrderRejected"},
}


def _sku(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _place(orderflow, sku: str, quantity: int, flow: str, token: str = "tok_visa", expect: int | None = None) -> str:
    response = orderflow.order([(sku, quantity)], token=token, flow=flow, customer_id=f"c-{uuid.uuid4().hex[:6]}")
    if expect is not None:
        assert response.status_code == expect, response.text
    return str(response.json()["order_id"])


def _outcome(order: dict) -> str:
    return "CONFIRMED" if order["status"] == "CONFIRMED" else str(order.get("reason"))


def _workload(orderflow, ops: Ops) -> tuple[dict[str, str], list[str]]:
    """Per flow: two confirmed orders, one declined card, one out of stock; every order finished.

    Returns the expected outcome by order id, and the skus involved.
    """
    expected: dict[str, str] = {}
    skus = []
    for flow in FLOWS:
        stocked, scarce = _sku(f"dup-{flow[:5]}"), _sku(f"oos-{flow[:5]}")
        orderflow.put_stock(stocked, available=10, price_cents=1250)
        orderflow.put_stock(scarce, available=1, price_cents=700)
        skus += [stocked, scarce]
        for sku, quantity, token, outcome in (
            (stocked, 2, "tok_visa", "CONFIRMED"),
            (stocked, 1, "tok_visa", "CONFIRMED"),
            (stocked, 3, "tok_chargeDeclined", "PAYMENT_DECLINED"),
            (scarce, 2, "tok_visa", "OUT_OF_STOCK"),
        ):
            expected[_place(orderflow, sku, quantity, flow, token, expect=ANSWER[(flow, outcome)])] = outcome
    orderflow.cloud.wait_idle(timeout=120)
    orders = ops.orders()
    finished = {order_id: _outcome(orders[order_id]) for order_id in expected}
    assert finished == expected
    return expected, skus


def _captured_workload(orderflow, ops: Ops, capture: BusCapture) -> tuple[dict[str, str], list[str], list[dict], dict]:
    """`_workload` under a bus capture; also returns its events (each order's complete) and the effects it left."""
    expected, skus = _workload(orderflow, ops)
    events = capture.of_orders(expected)
    for order_id, outcome in expected.items():
        seen = detail_types(events, order_id)
        assert set(seen) == EVENTS_OF[outcome], (order_id, outcome, seen)
    return expected, skus, events, effects(orderflow, ops, expected, skus)


def _assert_redelivered_without_new_facts(capture: BusCapture, events: list[dict], expected: dict[str, str]) -> None:
    """Each event came through the bus's rules three times in all, and no copy made a new event."""
    known = [e["detail"]["metadata"]["event_id"] for e in events]
    assert min(capture.deliveries(known).values()) >= 3
    later = capture.of_orders(expected)
    new = [(e["detail-type"], e["detail"]["data"]) for e in later if e["detail"]["metadata"]["event_id"] not in known]
    assert not new, f"duplicates made new events: {new}"


def _assert_unchanged(before: dict, after: dict) -> None:
    for order_id, entries in after["timeline"].items():
        assert not duplicate_event_ids(entries), (order_id, entries)
    changes = diff(before, after)
    assert not changes, "effects changed:\n" + "\n".join(changes)


# --- 1. duplicate delivery ---------------------------------------------------------------------------


def test_every_event_delivered_three_times_has_one_effect(orderflow, ops):
    with BusCapture(ops) as capture:
        expected, skus, events, before = _captured_workload(orderflow, ops, capture)

        # Every consumer now receives each event three times in all.
        for _ in range(2):
            republish(ops, events)
        orderflow.cloud.wait_idle(timeout=120)

        # The copies did reach the bus (and so every rule): the capture saw each twice more.
        _assert_redelivered_without_new_facts(capture, events, expected)

    after = effects(orderflow, ops, expected, skus)
    _assert_unchanged(before, after)
    for order_id, outcome in expected.items():
        shipment = after["shipments"][order_id]
        if outcome == "CONFIRMED":
            assert shipment is not None and shipment["status"] == "SCHEDULED", order_id
            assert after["payments"][order_id]["state"] == "CAPTURED"
        else:
            assert shipment is None, order_id
    ops.assert_no_violations()


# --- 2. out of order, late, replayed -----------------------------------------------------------------


def test_late_reversed_and_replayed_events_never_regress_an_order(orderflow, ops):
    window_start = datetime.now(UTC) - timedelta(seconds=1)
    with BusCapture(ops) as capture:
        expected, skus, events, before = _captured_workload(orderflow, ops, capture)

        # Late (every order is finished) and in reverse: ShipmentScheduled before OrderConfirmed
        # before PaymentCompleted ... before OrderPlaced, per order and across orders.
        newest_first = sorted(events, key=lambda e: e["detail"]["metadata"]["time"], reverse=True)
        republish(ops, newest_first)
        orderflow.cloud.wait_idle(timeout=120)
        after_reversed = effects(orderflow, ops, expected, skus)

        # An archive replay of the window (moto replays the whole archive, to every rule).
        result = replay(
            ops.clients,
            ops.resources,
            since=window_start,
            until=datetime.now(UTC) + timedelta(seconds=1),
            poll_seconds=0.2,
            timeout_seconds=120,
        )
        assert result.ok, result
        orderflow.cloud.wait_idle(timeout=180)
        # Each event came through the bus's rules again: original, reversed copy, replay.
        _assert_redelivered_without_new_facts(capture, events, expected)

    after_replay = effects(orderflow, ops, expected, skus)
    for after in (after_reversed, after_replay):
        statuses = {i: (o["status"], o.get("reason")) for i, o in after["orders"].items()}
        assert statuses == {i: (o["status"], o.get("reason")) for i, o in before["orders"].items()}
        assert all(status in TERMINAL for status, _ in statuses.values())
        _assert_unchanged(before, after)
    ops.assert_no_violations()


# --- 3. contention -----------------------------------------------------------------------------------

# Five buyers a unit, eight at once: every unit is fought over by the clients in flight, and four
# orders in five must be turned away. The choreographed rush charges UNITS orders at once through
# the payment workflow, whose tasks wait for one of the local cloud's few execution environments
# per function (Lambda would scale out): more charges than that would time their tasks out on a
# busy machine. Forty orders show what a hundred did (the same races, the same five-to-one
# refusals) at two fifths of the suite's time.
BUYERS, UNITS, CLIENTS = 40, 8, 8


def _rush(orderflow, sku: str, flow: str) -> list:
    """BUYERS orders of one unit each, from CLIENTS concurrent clients."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(
            pool.map(
                lambda i: orderflow.order([(sku, 1)], flow=flow, customer_id=f"rush-{flow[:5]}-{i}"), range(BUYERS)
            )
        )


@pytest.mark.slow
@pytest.mark.parametrize("flow", FLOWS)
def test_contention_never_oversells_and_rejects_the_rest_out_of_stock(orderflow, ops, flow):
    sku = _sku(f"rush-{flow[:5]}")
    orderflow.put_stock(sku, available=UNITS)

    started = time.monotonic()
    responses = _rush(orderflow, sku, flow)
    placed = time.monotonic()
    orderflow.cloud.wait_idle(timeout=600)
    print(
        f"{flow} rush: {BUYERS} orders placed in {placed - started:.1f} s, idle {time.monotonic() - placed:.1f} s later"
    )

    codes = Counter(r.status_code for r in responses)
    if flow == "orchestrated":
        assert codes == {201: UNITS, 409: BUYERS - UNITS}, codes
    else:
        assert codes == {202: BUYERS}, codes
    order_ids = {r.json()["order_id"] for r in responses}
    assert len(order_ids) == BUYERS
    orders, payments, shipments = ops.orders(), ops.payments_items(), ops.shipments()
    outcomes = Counter(_outcome(orders[order_id]) for order_id in order_ids)
    assert outcomes == {"CONFIRMED": UNITS, "OUT_OF_STOCK": BUYERS - UNITS}, outcomes
    assert ops.stock()[sku] == {"available": 0, "reserved": UNITS, "stocked": UNITS}
    confirmed = {i for i in order_ids if orders[i]["status"] == "CONFIRMED"}
    assert confirmed == {i for i in order_ids if i in shipments}
    assert all(payments[f"PAY#{i}"]["state"] == "CAPTURED" for i in confirmed)
    assert not any(f"PAY#{i}" in payments for i in order_ids - confirmed)  # never charged
    ops.assert_no_violations()


# --- 4. payment failing transiently; payment timing out in the saga ---------------------------------


@pytest.mark.parametrize("flow", FLOWS)
def test_a_transient_payment_failure_is_retried_and_confirmed(orderflow, ops, flow):
    sku = _sku("transient")
    orderflow.put_stock(sku, available=3)

    order_id = _place(orderflow, sku, 1, flow, token="tok_transient", expect=ANSWER[(flow, "CONFIRMED")])
    orderflow.cloud.wait_idle(timeout=120)

    assert orderflow.order_item(order_id)["status"] == "CONFIRMED"
    payment = orderflow.payment(order_id)
    assert payment["state"] == "CAPTURED"
    # The processor saw two failed attempts and the one that succeeded: retries, not luck.
    ledger = ops.payments_items()
    assert int(ledger[f"SIM#KEY#authorize:{order_id}"]["attempts"]) == 3
    assert [pk for pk in ledger if pk.startswith("SIM#CAP#")].count(f"SIM#CAP#{payment['capture_id']}") == 1
    assert orderflow.stock(sku) == {"available": 2, "reserved": 1, "stocked": 3}
    assert orderflow.shipment(order_id) is not None
    ops.assert_no_violations()


SAGA_DECISION_BOUND_SECONDS = 150  # 4 attempts x the task timeout + backoff, with a loaded machine's slack


def test_a_payment_timing_out_in_the_saga_is_compensated(orderflow, ops, faults):
    sku = _sku("timeout")
    orderflow.put_stock(sku, available=4)
    customer, key = f"c-{uuid.uuid4().hex[:6]}", f"key-{uuid.uuid4()}"
    order_id = new_order_id(customer, key)  # the id the API derives from an Idempotency-Key

    with faults.injected({"payments.authorize": {"latency_ms": PAST_THE_TASK_TIMEOUT_MS}}):
        started = time.monotonic()
        response = orderflow.order([(sku, 2)], customer_id=customer, headers={"Idempotency-Key": key})
        answered = time.monotonic() - started
        # Four attempts that time out, their backoff and the compensation: the saga may outlast the
        # API's own wait (~25 s), which then answers 202 PENDING, and the decision comes later.
        assert response.status_code in (202, 503), (response.status_code, response.text)
        if response.status_code == 202:
            assert response.json() == {"order_id": order_id, "status": "PENDING", "flow": "orchestrated"}
            assert response.headers["Location"] == f"/orders/{order_id}"

        def decided():
            got = orderflow.http.get(orderflow.url(f"/orders/{order_id}"), timeout=30)
            return got.json() if got.status_code == 200 and got.json()["status"] in TERMINAL else None

        order = poll(decided, timeout=SAGA_DECISION_BOUND_SECONDS, interval=0.5, what="a saga decision")
        decided_after = time.monotonic() - started
        print(
            f"saga timeout: API answered {response.status_code} after {answered:.1f} s, "
            f"order {order['status']} after {decided_after:.1f} s"
        )
        orderflow.cloud.wait_idle(timeout=120)  # the timed-out attempts' invocations finish too

    # The client retries with its Idempotency-Key (after a 202) and gets the decision.
    retried = orderflow.order([(sku, 2)], customer_id=customer, headers={"Idempotency-Key": key})
    assert retried.status_code == 503, retried.text
    decision = retried.json()
    assert (decision["order_id"], decision["status"], decision["reason"]) == (
        order_id,
        "REJECTED",
        "PAYMENT_UNAVAILABLE",
    )
    assert (order["status"], order.get("reason")) == ("REJECTED", "PAYMENT_UNAVAILABLE"), order
    assert orderflow.stock(sku) == {"available": 4, "reserved": 0, "stocked": 4}
    payment = orderflow.payment(order_id)
    assert payment is None or payment["state"] in ("VOIDED", "FAILED"), payment
    # The processor's side: the hold an attempt that outlived its timeout placed is voided, nothing captured.
    authorization_id = derive_id("auth", f"authorize:{order_id}")
    ledger = ops.payments_items()
    authorization = ledger.get(f"SIM#AUTH#{authorization_id}")
    assert authorization is None or authorization["state"] == "VOIDED", authorization
    captures = [
        i for pk, i in ledger.items() if pk.startswith("SIM#CAP#") and i["authorization_id"] == authorization_id
    ]
    assert not captures, captures
    assert orderflow.shipment(order_id) is None
    ops.assert_no_violations()


def _payments_task(orderflow, order: dict, action: str, **fields) -> dict:
    """Invokes payments-tasks as the saga does (a Lambda invocation Step Functions no longer waits for)."""
    function = orderflow.stack.get_logical_id(orderflow.stack.payments.tasks.function.node.default_child)
    event = {"action": action, "order_id": order["order_id"], "correlation_id": order["correlation_id"]}
    result = orderflow.cloud.invoke(function, event | {"flow": order["flow"], **fields})
    assert not result.errored, result.payload
    return json.loads(result.payload)


def test_an_authorize_attempt_completing_after_compensation_holds_no_money(orderflow, ops, faults):
    sku = _sku("late-authorize")
    orderflow.put_stock(sku, available=3)
    # Every authorize attempt fails fast: the saga retries, gives up and compensates (nothing to undo).
    with faults.injected({"payments.authorize": {"outage": True}}):
        response = orderflow.order([(sku, 1)], customer_id=f"c-{uuid.uuid4().hex[:6]}")
    assert response.status_code == 503, response.text
    order = orderflow.order_item(response.json()["order_id"])
    assert (order["status"], order["reason"]) == ("REJECTED", "PAYMENT_UNAVAILABLE")
    # Compensation found nothing to void and left a VOIDED tombstone for a late attempt to meet.
    tombstone = orderflow.payment(order["order_id"])
    assert tombstone is not None and tombstone["state"] == "VOIDED" and not tombstone.get("authorization_id")

    # The last attempt, had it been slow rather than failed, would still be running in its Lambda
    # when the saga's task timeout moved on to compensation; it completes only now.
    amount = int(order["total_cents"])
    tax = _payments_task(orderflow, order, "calculate_tax", amount_cents=amount)["tax_cents"]
    late = _payments_task(
        orderflow, order, "authorize", amount_cents=amount, tax_cents=tax, payment_ref=order["payment_ref"]
    )
    payment = orderflow.payment(order["order_id"])
    held = ops.payments_items().get(f"SIM#AUTH#{derive_id('auth', 'authorize:' + order['order_id'])}")
    # Undo by hand what the late attempt did, so that later tests find a consistent system.
    if payment is not None and payment["state"] == "AUTHORIZED":
        _payments_task(orderflow, order, "void")
    ops.assert_no_violations()

    assert late["status"] != "AUTHORIZED", late
    assert payment is None or payment["state"] != "AUTHORIZED", payment
    assert held is None or held["state"] != "AUTHORIZED", held


# --- 5. shipping down for the whole burst ------------------------------------------------------------

SHIPPING_OUTAGE = {"shipping.*": {"outage": True}}


def _peek(ops: Ops, url: str) -> list[dict]:
    """The bodies a queue holds, leaving every message visible (VisibilityTimeout 0)."""
    bodies: dict[str, dict] = {}
    for _ in range(50):
        batch = ops.clients.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0
        ).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in bodies]
        if not fresh and len(bodies) >= ops.depth(url):
            break
        bodies |= {m["MessageId"]: json.loads(m["Body"]) for m in fresh}
    return list(bodies.values())


def _shipping_logs(orderflow, message: str, order_id: str) -> list[dict]:
    name = orderflow.cloud.function_name(
        orderflow.stack.get_logical_id(orderflow.stack.shipping.consumer.function.node.default_child)
    )
    lines = []
    for line in orderflow.cloud.logs(name):
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if record.get("message") == message and order_id in (record.get("order_id"), record.get("message_id")):
            lines.append(record)
    return lines


def _stocked_with_shipping_queues(orderflow, ops: Ops, prefix: str, available: int) -> tuple[str, str, str]:
    """A new sku with `available` in stock, and shipping's DLQ (empty) and source queue."""
    sku = _sku(prefix)
    orderflow.put_stock(sku, available=available)
    dlq, queue = ops.dlq_url("shipping"), ops.source_queue_url("shipping")
    assert ops.depth(dlq) == 0
    return sku, dlq, queue


def test_shipping_down_for_the_whole_burst_ships_each_order_once_after_redrive(orderflow, ops, faults):
    sku, dlq, queue = _stocked_with_shipping_queues(orderflow, ops, "ship-down", available=20)

    with faults.injected(SHIPPING_OUTAGE):
        order_ids = [
            _place(orderflow, sku, 1, flow, expect=ANSWER[(flow, "CONFIRMED")]) for flow in FLOWS for _ in range(5)
        ]
        # Each OrderConfirmed fails its 5 receives (redelivery 0.2 s), then moto moves it to the DLQ.
        orderflow.cloud.wait_idle(timeout=180)
        poll(lambda: ops.depth(dlq) == len(order_ids) and ops.depth(queue) == 0, timeout=60, what="shipping DLQ full")
        parked = _peek(ops, dlq)
        assert sorted(e["detail"]["data"]["order_id"] for e in parked) == sorted(order_ids)
        assert {e["detail-type"] for e in parked} == {"OrderConfirmed"}
        orders, shipments = ops.orders(), ops.shipments()
        assert all(orders[i]["status"] == "CONFIRMED" for i in order_ids)
        assert not set(order_ids) & set(shipments)
    # (leaving the block switched the outage off and waited for every process to see it)

    result = redrive(ops.clients, ops.resources, ["shipping"])["shipping"]
    assert (result.waiting, result.moved, result.failed) == (len(order_ids), len(order_ids), 0), result.errors
    orderflow.cloud.wait_idle(timeout=120)

    assert ops.depth(dlq) == 0
    shipments = ops.shipments()
    for order_id in order_ids:
        shipment = shipments.get(order_id)
        assert shipment is not None and shipment["status"] == "SCHEDULED", order_id
        assert len(_shipping_logs(orderflow, "shipment scheduled", order_id)) == 1, order_id
        shipped = [e for e in timeline(orderflow, order_id) if e["detail_type"] == "ShipmentScheduled"]
        assert len(shipped) == 1, (order_id, shipped)
    ops.assert_no_violations()


# --- 6. a poison message -----------------------------------------------------------------------------


def test_a_poison_message_is_parked_while_its_batch_neighbours_ship_exactly_once(orderflow, ops, faults):
    sku, dlq, queue = _stocked_with_shipping_queues(orderflow, ops, "poison", available=5)

    # Two real confirmed orders whose shipments do not exist: confirmed while shipping was down,
    # their OrderConfirmed taken out of the shipping DLQ (the events exactly as the rule delivered them).
    with faults.injected(SHIPPING_OUTAGE):
        first = _place(orderflow, sku, 1, "orchestrated", expect=201)
        second = _place(orderflow, sku, 2, "choreographed", expect=202)
        orderflow.cloud.wait_idle(timeout=120)
        poll(lambda: ops.depth(dlq) == 2, timeout=60, what="both OrderConfirmed in the shipping DLQ")
        confirmed = {
            json.loads(m["Body"])["detail"]["data"]["order_id"]: m["Body"] for m in ops.receive_all(dlq, delete=True)
        }
    assert set(confirmed) == {first, second}
    assert orderflow.shipment(first) is None and orderflow.shipment(second) is None

    # The poison: an OrderConfirmed that breaks the contract (items is not a list) of an unknown order.
    poison_event = json.loads(confirmed[first])
    poison_id = f"poison-{uuid.uuid4().hex[:8]}"
    poison_event["detail"]["metadata"]["order_id"] = poison_event["detail"]["data"]["order_id"] = poison_id
    poison_event["detail"]["data"]["items"] = "not-a-list"
    poison = json.dumps(poison_event)
    # One delay for all three: they become visible together, so the poller takes them as one batch.
    sent = ops.clients.sqs.send_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "first", "MessageBody": confirmed[first], "DelaySeconds": 1},
            {"Id": "poison", "MessageBody": poison, "DelaySeconds": 1},
            {"Id": "second", "MessageBody": confirmed[second], "DelaySeconds": 1},
        ],
    )
    assert not sent.get("Failed"), sent
    poison_message_id = next(e["MessageId"] for e in sent["Successful"] if e["Id"] == "poison")

    orderflow.cloud.wait_idle(timeout=120)
    poll(lambda: ops.depth(dlq) == 1 and ops.depth(queue) == 0, timeout=60, what="the poison in the shipping DLQ")

    # Partial batch failure: the neighbours were scheduled once, in the poison's first batch, never retried.
    rejections = _shipping_logs(orderflow, "malformed event rejected", poison_message_id)
    assert len(rejections) == 5, rejections  # maxReceiveCount receives, then the DLQ
    for order_id in (first, second):
        shipment = orderflow.shipment(order_id)
        assert shipment is not None and shipment["status"] == "SCHEDULED", order_id
        scheduled = _shipping_logs(orderflow, "shipment scheduled", order_id)
        assert len(scheduled) == 1, scheduled
        assert scheduled[0]["function_request_id"] == rejections[0]["function_request_id"]
        assert not _shipping_logs(orderflow, "shipment already scheduled; announcing again", order_id)

    # What the DLQ holds is the poison, unchanged. Redriving it would only poison the queue again
    # (5 more failed receives, back here), so after asserting it the test deletes it, as an
    # operator would after reading "malformed event rejected" in the consumer's log.
    [parked] = ops.receive_all(dlq, delete=True)
    assert parked["Body"] == poison
    assert orderflow.shipment(poison_id) is None
    ops.assert_no_violations()
