"""The chaos run's figures: final statuses per order and flow, faults by class, the tables it prints."""

from __future__ import annotations

import argparse
from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table

from ops.chaos.workload import FAILURE_CLASSES, LATE_MS, LATE_OPERATIONS, Outcome


def summarize(
    cloud: Any,
    outcomes: list[Outcome],
    report: Any,
    moved: Counter[str],
    placed_in: float,
    total: float,
    args: argparse.Namespace,
) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    ddb = cloud.client("dynamodb")
    table = next(
        r.physical_id
        for lid, r in cloud.resources.items()
        if lid.startswith("OrdersTable") and r.type == "AWS::DynamoDB::Table"
    )
    final: dict[str, str] = {}
    reasons: dict[str, str] = {}
    plain = TypeDeserializer().deserialize
    for page in ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for item in page["Items"]:
            final[plain(item["order_id"])] = plain(item["status"])
            if "reason" in item:
                reasons[plain(item["order_id"])] = plain(item["reason"])
    accepted = [o for o in outcomes if o.accepted]
    terminal = Counter(final.get(o.order_id or "", "MISSING") for o in accepted)
    lost = sum(n for status, n in terminal.items() if status not in ("CONFIRMED", "REJECTED"))
    by_flow = Counter(
        (o.flow, final.get(o.order_id or "", "MISSING"), reasons.get(o.order_id or "", "")) for o in accepted
    )
    return {
        "orders": len(outcomes),
        "failure_rate": args.failure_rate,
        "late_rate": args.late_rate,
        "accepted": len(accepted),
        "refused": len(outcomes) - len(accepted),
        "confirmed": terminal.get("CONFIRMED", 0),
        "rejected": terminal.get("REJECTED", 0),
        "lost": lost,
        "violations": len(report.violations),
        "violations_by_kind": dict(report.by_kind()),
        "client_retries": sum(o.attempts - 1 for o in outcomes),
        "redriven": dict(moved),
        "by_flow": {"/".join(filter(None, key)): n for key, n in sorted(by_flow.items())},
        "placed_seconds": round(placed_in, 1),
        "total_seconds": round(total, 1),
    }


def print_classes(console: Console, figures: dict[str, Any]) -> None:
    table = Table(title="faults injected by failure class (from the function logs)")
    table.add_column("failure class")
    table.add_column("injected", justify="right")
    table.add_column("operations", justify="right")
    table.add_column("most hit")
    for name in FAILURE_CLASSES:
        count = figures["injected"][name]
        operations = figures["injected_by_operation"][name]
        top = ", ".join(f"{op} {n}" for op, n in list(operations.items())[:3])
        table.add_row(name, f"[{'green' if count else 'red'}]{count}", str(len(operations)), top)
    outage = figures["outage"]
    if outage["service"]:
        service = outage["service"]
        hits = sum(n for op, n in figures["injected_by_operation"]["before"].items() if op.startswith(f"{service}."))
        table.add_row(
            f"  before on {service}.* (incl. outage)",
            str(hits),
            "",
            f"down {outage['seconds']} s, then redriven",
        )
    late = sum(n for op, n in figures["injected_by_operation"]["after-commit"].items() if op in LATE_OPERATIONS)
    table.caption = (
        f"after-commit includes {LATE_MS} ms late answers on {' / '.join(LATE_OPERATIONS)} "
        f"(those two operations: {late} after-commit in all)"
    )
    console.print(table)


def print_figures(console: Console, figures: dict[str, Any], report: Any) -> None:
    table = Table(title=f"chaos: {figures['orders']} orders at {figures['failure_rate']:.0%} injected failures")
    for column in (
        "accepted",
        "confirmed",
        "rejected",
        "lost",
        "violations",
        "undecided",
        "parked",
        "refused",
        "client retries",
        "redriven",
        "reconciler runs",
        "seconds",
    ):
        table.add_column(column, justify="right")

    def flag(value: int) -> str:
        return f"[{'red' if value else 'green'}]{value}"

    table.add_row(
        str(figures["accepted"]),
        str(figures["confirmed"]),
        str(figures["rejected"]),
        flag(figures["lost"]),
        flag(figures["violations"]),
        flag(figures["undecided"]),
        flag(figures["parked"]),
        str(figures["refused"]),
        str(figures["client_retries"]),
        str(sum(figures["redriven"].values())),
        str(figures["reconciler_runs"]),
        str(figures["total_seconds"]),
    )
    console.print(table)
    flows = Table(title="final status by flow")
    flows.add_column("flow/status/reason")
    flows.add_column("orders", justify="right")
    for key, value in figures["by_flow"].items():
        flows.add_row(key, str(value))
    console.print(flows)
    for violation in report.violations[:20]:
        console.print(f"[red]{violation}")
    console.print(f"function logs: {figures['logs']}")
