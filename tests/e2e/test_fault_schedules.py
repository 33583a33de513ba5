"""Fault schedules, generated: whatever fails where, once faults stop the system settles clean.

Hypothesis draws a schedule, a small dict `"<service>.<operation>" -> fault` over the saga's steps
and the payment workflow's (a choreographed order's) steps, with faults of every failure class:
`before` (the step never runs), `after` (it commits, then fails, or answers 1 s late, or past the
saga's task timeout), `lost_response` (it commits, its answer is lost), `duplicate` (it runs
twice at once). Under that schedule one order of each flow is placed and runs until the system
is idle. Then faults go off and the system settles as an operator would settle it (the same
recovery as `make chaos`: redrive every DLQ, fire the reconciler past every deadline). The
invariant checker must find nothing, nothing may be left parked, and both orders must be decided.

Bounded for `make test`: five examples, a fixed seed (CI replays the same schedules), no shrinking (an
example is already small; shrinking would re-run the bed for minutes). Failing examples are kept
in tests/e2e/.hypothesis-fault-schedules and replayed first on the next run.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, note, seed, settings
from hypothesis import core as hypothesis_core
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.vendor import pretty
from rich.console import Console

from ops.chaos.recovery import settle
from orders.domain.models import new_order_id
from tests.e2e.faults import TERMINAL, Faults
from tests.support.stack_context import PAST_THE_TASK_TIMEOUT_MS

pytestmark = pytest.mark.e2e

# The orchestrated saga's steps. ReadOrder is a DynamoDB read without a function (nothing to
# inject into; a failed read is retried by Step Functions and commits nothing), and RecordOrder
# runs only for an order the API never recorded; ChargePayment is one invocation whose parts
# (calculate_tax, authorize, capture) each stay injectable, and the whole can fail too.
SAGA_STEPS = (
    "orders.confirm",
    "orders.reject",
    "inventory.reserve",
    "inventory.release",
    "payments.calculate_tax",
    "payments.charge",
    "payments.authorize",
    "payments.capture",
    "payments.refund",
    "payments.void",
)
# A choreographed order's steps: the payment workflow, inventory's consumer, the outbox and projection.
WORKFLOW_STEPS = (
    "payments.charge",
    "payments.authorize",
    "payments.capture",
    "payments.void",
    "payments.fail",
    "payments.start_workflow",
    "inventory.reserve",
    "inventory.release",
    "orders.project",
    "orders.relay",
)
OPERATIONS = tuple(sorted(set(SAGA_STEPS) | set(WORKFLOW_STEPS)))
SHORT_MS = 1000
LONG_MS = PAST_THE_TASK_TIMEOUT_MS  # past the saga's task timeout, within the functions' 10 s
# `make test` draws 5 schedules beside the explicit and the saved ones; `make fuzz` draws more
# (SCHEDULES=..., from the same seed).
MAX_EXAMPLES = int(os.environ.get("ORDERFLOW_SCHEDULE_EXAMPLES") or 5)
SEED = 20261202
DATABASE = DirectoryBasedExampleDatabase(Path(__file__).resolve().parent / ".hypothesis-fault-schedules")
_INJECTED = re.compile(r"fault injected: (\S+) (\S+)")


def _fault(phase: str, rate: float = 1, latency_ms: int | None = None) -> dict[str, Any]:
    fault: dict[str, Any] = {"phase": phase, "failure_rate": rate}
    if latency_ms:
        fault["latency_ms"] = latency_ms
    return fault


# One fault per value, every class; the late-past-the-timeout one is drawn sparingly (it costs
# the saga its retries of a task timeout each).
SINGLE = (
    _fault("before"),
    _fault("before"),
    _fault("after"),
    _fault("after"),
    _fault("after", latency_ms=SHORT_MS),
    _fault("lost_response"),
    _fault("lost_response"),
    _fault("duplicate"),
    _fault("duplicate"),
    _fault("after", latency_ms=LONG_MS),
)
faults_of_one_operation = st.one_of(
    st.sampled_from(SINGLE),
    # A small list: each fires half the time (the first that fires wins, `before` first).
    st.lists(
        st.sampled_from(("before", "after", "lost_response", "duplicate")).map(lambda phase: _fault(phase, 0.5)),
        min_size=2,
        max_size=2,
        unique_by=lambda fault: fault["phase"],
    ),
)
schedules = st.dictionaries(st.sampled_from(OPERATIONS), faults_of_one_operation, min_size=1, max_size=3)


@pytest.fixture(scope="module", autouse=True)
def readable_examples() -> Iterator[None]:
    """Hypothesis' own printer while these tests run.

    The schemathesis pytest plugin (tests/e2e/test_fuzz.py) swaps Hypothesis' printer for one that
    prints nothing, process-wide, so a failing example would read `schedule=,`. Put the real one
    back for this module, and the plugin's after it.
    """
    patched = hypothesis_core.RepresentationPrinter
    hypothesis_core.RepresentationPrinter = pretty.RepresentationPrinter  # type: ignore[misc]
    try:
        yield
    finally:
        hypothesis_core.RepresentationPrinter = patched  # type: ignore[misc]


@pytest.fixture(scope="module")
def faults(orderflow) -> Iterator[Faults]:
    """Module-scoped (one per Hypothesis run); each example switches faults off in its own `finally`."""
    with Faults.cleared(orderflow.cloud) as controller:
        yield controller


def _injected(cloud: Any) -> Counter[str]:
    """`<class> <service>.<operation>` -> faults injected so far, from every function's log."""
    counts: Counter[str] = Counter()
    for pool in cloud.functions.values():
        for line in pool.logs.lines():
            match = _INJECTED.search(line)
            if match:
                counts[f"{match.group(1)} {match.group(2)}"] += 1
    return counts


def _place(orderflow: Any, sku: str, flow: str) -> tuple[str, int]:
    """One order of `flow`; its id is derived from the Idempotency-Key, whatever the API answers."""
    customer, key = f"sched-{uuid.uuid4().hex[:6]}", f"key-{uuid.uuid4()}"
    response = orderflow.order([(sku, 1)], flow=flow, customer_id=customer, headers={"Idempotency-Key": key})
    return new_order_id(customer, key), response.status_code


# Known bug, found by this test (schedule {"payments.capture": {"phase": "after", "failure_rate": 1}},
# replayed first from the example database): in the payment workflow, a capture that committed,
# announced PaymentCompleted (the order is CONFIRMED and ships), then failed through its retries
# is caught by VoidAuthorization, which refunds it; AnnouncePaymentFailed then releases the stock.
# The checker says CONFIRMED_WITHOUT_CAPTURE and CONFIRMED_WITHOUT_RESERVATION. Strict: once the
# workflow treats a committed capture as its pivot, this XPASSes and the marker must go.
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=DATABASE,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=False,
)
@seed(SEED)  # under @settings: @seed alone would switch the example database off
@given(schedule=schedules)
# The pivot answering past the saga's task timeout, every time: always run.
@example(schedule={"orders.confirm": _fault("after", latency_ms=LONG_MS)})
def test_any_fault_schedule_settles_with_no_violation(orderflow, ops, faults, schedule):
    note(f"schedule: {json.dumps(schedule, sort_keys=True)}")
    cloud = orderflow.cloud
    sku = f"sched-{uuid.uuid4().hex[:8]}"
    orderflow.put_stock(sku, available=5, price_cents=1500)
    before = _injected(cloud)
    started = time.monotonic()
    try:
        faults.set(schedule)
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            placed = dict(pool.map(lambda flow: _place(orderflow, sku, flow), ("orchestrated", "choreographed")))
        cloud.wait_idle(timeout=180)
    finally:
        faults.clear()
    under_faults = time.monotonic() - started
    note(f"orders (id -> first answer): {placed}")
    note(f"injected: {dict(_injected(cloud) - before) or 'nothing'}")

    moved, reconciler_runs, undecided = settle(cloud, Console(quiet=True))
    note(f"settled: redriven {dict(+moved) or 'nothing'}, reconciler runs {reconciler_runs}, undecided {undecided}")
    note(f"{under_faults:.0f} s under faults, {time.monotonic() - started:.0f} s in all")

    orders = ops.orders()
    decided = {order_id: orders.get(order_id, {}).get("status") for order_id in placed}
    note(f"decisions: { {i: (o.get('status'), o.get('reason')) for i, o in orders.items() if i in placed} }")
    ops.assert_no_violations()
    assert all(status in TERMINAL for status in decided.values()), decided
