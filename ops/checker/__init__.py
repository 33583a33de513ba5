"""The invariant checker: reads every service's table and says where the system disagrees with itself.

Rules (docs/operations.md explains each):

- stock is conserved per sku: available + reserved = stocked, neither negative, and reserved is
  the sum of the RESERVED reservations' quantities;
- CONFIRMED <=> one kept reservation with the order's lines, one capture of total + tax, and
  (once settled) one SCHEDULED shipment; with the simulated provider, its ledger (SIM#) must
  hold exactly that one capture too;
- REJECTED => no stock held, no money held or taken (refunds whole, the processor's hold
  voided), no shipment (choreographed orders compensate after the fact, so only once settled);
- a non-terminal order that nothing can move any more is LOST: no running execution for it,
  and no message in a queue or DLQ that drives orders of its flow (an orchestrated order
  moves only inside its saga, or from the saga DLQ);
- shipments, captures and held reservations belong to existing, CONFIRMED orders; processor
  money no payment record points to is flagged once settled.

Tables are read in causal order (orders first): every service writes its part of an order
before the order's status moves past it, so a status read first never runs ahead of what the
later scans see. What happens after a status (shipping, choreographed compensation) gets a
grace period, or none with `settled=True` once the system is quiet.

`check` reads (ops.checker.reading) and evaluates the rules (ops.checker.rules) over the
snapshot (ops.checker.model); `evaluate` is the rules alone, for tests and for a snapshot at hand.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import boto3

from ops.checker.model import DEFAULT_GRACE, TERMINAL, Activity, OrderReader, Progress, Report, Snapshot
from ops.checker.reading import order_reader, read_activity, read_snapshot
from ops.checker.rules import check_orders, check_stock, is_settled
from ops.clients import Clients, as_clients
from ops.resources import ORDERS_TABLE, Resources


def _counts(snapshot: Snapshot, activity: Activity) -> dict[str, int]:
    counts: dict[str, int] = {
        "orders": len(snapshot.orders),
        "skus": len(snapshot.skus),
        "reservations": len(snapshot.reservations),
        "payments": len(snapshot.payments),
        "shipments": len(snapshot.shipments),
        "messages waiting": activity.waiting,
        "executions running": len(activity.running_orders) + activity.unattributed_running,
    }
    for status, n in sorted(Counter(str(o.get("status")) for o in snapshot.orders.values()).items()):
        counts[f"orders {status}"] = n
    for state, n in sorted(Counter(str(r.get("state")) for r in snapshot.reservations.values()).items()):
        counts[f"reservations {state}"] = n
    for state, n in sorted(Counter(str(p.get("state")) for p in snapshot.payments.values()).items()):
        counts[f"payments {state}"] = n
    return counts


def evaluate(
    snapshot: Snapshot,
    activity: Activity,
    *,
    now: datetime | None = None,
    grace: timedelta = DEFAULT_GRACE,
    settled: bool = False,
    read_order: OrderReader | None = None,
) -> Report:
    now = now or datetime.now(UTC)
    report = Report(messages=dict(activity.messages))
    report.violations = check_stock(snapshot) + check_orders(
        snapshot, activity, now=now, grace=grace, settled=settled, read_order=read_order
    )
    report.counts = _counts(snapshot, activity)
    stalled = Counter(
        str(o.get("flow"))
        for o in snapshot.orders.values()
        if o.get("status") not in TERMINAL and is_settled(o, now, grace, settled) and activity.moving(o.get("flow"))
    )
    for flow, n in sorted(stalled.items()):
        report.notes.append(
            f"{n} {flow} order(s) past the grace period are not terminal while {activity.moving(flow)} message(s) "
            "that can move them wait: redrive the DLQs, then check again"
        )
    return report


def check(
    session_or_clients: boto3.Session | Clients,
    resources: Resources,
    *,
    settled: bool = False,
    grace: timedelta = DEFAULT_GRACE,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> Report:
    """Read every table and queue of the stack and evaluate the invariants."""
    clients = as_clients(session_or_clients)
    started = now or datetime.now(UTC)
    snapshot = read_snapshot(clients.dynamodb, resources, progress)
    notes: list[str] = []
    activity = read_activity(clients, resources, notes, progress)
    if progress:
        progress("rules")
    report = evaluate(
        snapshot,
        activity,
        now=started,
        grace=grace,
        settled=settled,
        read_order=order_reader(clients.dynamodb, resources.table(ORDERS_TABLE)),
    )
    report.notes[:0] = notes
    return report
