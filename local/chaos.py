"""`python -m local.chaos` (make chaos): orders under every failure class, an outage, recovery, the checker.

1. The app runs on the local cloud with faults switched on through the fault-injection document
   in SSM (the mechanism a deployed stack uses). Every `<service>.*` holds one fault per failure
   class, each firing at a quarter of --failure-rate: `before` (the operation never runs),
   `after` (it commits, then the call fails), `lost_response` (it commits, its answer is lost),
   `duplicate` (it runs twice at once). orders.confirm and payments.capture, the pivot and the
   charge, also answer late past the saga's 8 s task timeout at --late-rate.
2. --orders orders across both flows, from parallel clients that retry 5xx answers with the
   same Idempotency-Key as a real client would, against limited stock and a mix of cards.
   While the middle third is placed, --outage (a service) is down.
3. Recovery: faults off, the system drains, every DLQ is redriven until none holds anything, and
   the reconciler's schedule is fired past every order's deadline until no order is undecided.
4. The invariant checker reads every table and queue.

It counts the faults actually injected from the functions' logs (`fault injected: <class> ...`),
prints them by failure class, then accepted / confirmed / rejected / lost / violations, and exits
1 on any violation, lost or undecided order, or message left parked.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

SERVICES = ("orders", "inventory", "payments", "shipping", "notifications")
TOKENS = ("tok_visa",) * 8 + ("tok_chargeDeclined", "tok_transient")
RETRYABLE = {500, 502, 503, 504}
# The failure classes, as the functions log them (shared/faults.py FAILURE_CLASS), in report order.
FAILURE_CLASSES = ("before", "after-commit", "lost-response", "duplicate")
# The pivot and the charge: a late answer here is what the saga's pivot logic is for.
LATE_OPERATIONS = ("orders.confirm", "payments.capture")
LATE_MS = 9000  # past the saga's 8 s task timeout, within the functions' 10 s
FAULT_SETTLE_SECONDS = 2.5  # every function process re-reads the document within 2 s
RECONCILE_RULE = "OrdersReconcileSchedule"
# Past every order's deadline: the choreography's 30 minutes (the saga's lease is 4.5).
RECONCILE_AHEAD = timedelta(minutes=31)
_INJECTED = re.compile(r"fault injected: (\S+) (\S+)")


@dataclass
class Outcome:
    order_id: str | None = None
    flow: str = ""
    status: str | None = None
    attempts: int = 0
    answers: list[int] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.order_id is not None and self.status in ("CONFIRMED", "REJECTED", "PENDING")


def faults_document(rate: float, late_rate: float = 0.0, outage: str | None = None) -> dict[str, Any]:
    """Each service's operations: one fault per failure class, each at a quarter of `rate`."""
    share = rate / 4
    classes: list[dict[str, Any]] = [
        {"phase": "before", "failure_rate": share},
        {"phase": "after", "failure_rate": share},
        {"phase": "lost_response", "failure_rate": share},
        {"phase": "duplicate", "failure_rate": share},
    ]
    document: dict[str, Any] = {f"{service}.*": classes for service in SERVICES}
    if late_rate > 0:
        # An operation's own entry replaces its service's, so it repeats the classes.
        late = {"phase": "after", "latency_ms": LATE_MS, "failure_rate": late_rate}
        document |= {operation: [*classes, late] for operation in LATE_OPERATIONS}
    if outage:
        document[f"{outage}.*"] = {"outage": True}
    return document


def place(http: requests.Session, api: str, body: dict[str, Any], attempts: int) -> Outcome:
    outcome = Outcome(flow=body["flow"])
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    for attempt in range(1, attempts + 1):
        outcome.attempts = attempt
        response = http.post(f"{api}/orders", json=body, headers=headers, timeout=90)
        outcome.answers.append(response.status_code)
        payload = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code in (201, 202, 402, 409) or (response.status_code == 503 and "status" in payload):
            outcome.order_id = payload.get("order_id")
            outcome.status = payload.get("status")
            return outcome
        if response.status_code == 409 and "Retry-After" in response.headers:
            time.sleep(float(response.headers["Retry-After"]))
            continue
        if response.status_code not in RETRYABLE:
            return outcome
        time.sleep(min(2.0, 0.1 * 2**attempt) * random.random())
    return outcome


def recover(cloud: Any, console: Console, rounds: int = 6, skip: tuple[str, ...] = ()) -> Counter[str]:
    """Faults off, drain, redrive every DLQ (but `skip`) until nothing is left anywhere."""
    from ops.clients import Clients, local_session
    from ops.redrive import redrive
    from ops.topology import DEAD_LETTER_QUEUES

    clients = Clients.from_session(local_session(cloud.region), endpoint_url=cloud.endpoint_url)
    resources = resources_of(cloud)
    names = [name for name in DEAD_LETTER_QUEUES if name not in skip]
    moved: Counter[str] = Counter()
    for round_number in range(1, rounds + 1):
        cloud.wait_idle(timeout=300)
        results = redrive(clients, resources, names)
        waiting = {name: r.waiting for name, r in results.items() if r.waiting}
        for name, result in results.items():
            moved[name] += result.moved
        console.print(f"recovery round {round_number}: redriven {waiting or 'nothing'}")
        if not waiting:
            break
    cloud.wait_idle(timeout=300)
    return moved


def undecided_orders(cloud: Any) -> list[str]:
    """The orders whose status is not a decision yet."""
    from ops.checker import TERMINAL, scan
    from ops.resources import ORDERS_TABLE

    table = resources_of(cloud).table(ORDERS_TABLE)
    return [str(o["order_id"]) for o in scan(cloud.client("dynamodb"), table) if o.get("status") not in TERMINAL]


def settle(cloud: Any, console: Console, rounds: int = 5) -> tuple[Counter[str], int, int]:
    """Recover, then fire the reconciler past every deadline (at least once) until no order is undecided.

    Parked saga inputs wait for the reconciler: an undecided order's parked saga still holds its
    lease (its deadline), so redriving it now is refused, and a refused message stays hidden for
    the redrive's visibility timeout. Once the reconciler has decided the order, the redrive re-runs
    the saga, which finds the decision and only finishes the compensation.

    Returns what was redriven, the reconciler runs fired, and the orders left undecided.
    """
    moved = recover(cloud, console, skip=("saga",))
    fired = 0
    undecided = undecided_orders(cloud)
    for _ in range(rounds):
        at = datetime.now(UTC) + RECONCILE_AHEAD
        cloud.scheduler.fire(RECONCILE_RULE, at=at)
        fired += 1
        cloud.wait_idle(timeout=300)
        moved += recover(cloud, console, rounds=3)
        left = undecided_orders(cloud)
        console.print(
            f"reconciler fired at {at:%H:%M:%S} UTC (now + {RECONCILE_AHEAD.seconds // 60} min): "
            f"{len(undecided)} undecided before, {len(left)} after"
        )
        undecided = left
        if not undecided:
            break
    return moved, fired, len(undecided)


def resources_of(cloud: Any) -> Any:
    from ops.resources import Resources

    return Resources.from_dict({logical: r.physical_id for logical, r in cloud.resources.items()})


def injected_faults(log_dir: Path) -> Counter[tuple[str, str]]:
    """(failure class, service.operation) -> how many times it was injected, from the function logs."""
    counts: Counter[tuple[str, str]] = Counter()
    for path in sorted(log_dir.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                match = _INJECTED.search(line)
                if match:
                    counts[(match.group(1), match.group(2))] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--failure-rate", type=float, default=0.2, help="per operation, split over the 4 classes")
    parser.add_argument(
        "--late-rate", type=float, default=0.02, help=f"{', '.join(LATE_OPERATIONS)} answering {LATE_MS} ms late"
    )
    parser.add_argument("--outage", default="shipping", choices=(*SERVICES, "none"), help="down for the middle third")
    parser.add_argument("--outage-seconds", type=float, default=20, help="the outage lasts at least this long")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--skus", type=int, default=10, help="skus, each stocked below its demand")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--attempts", type=int, default=6, help="tries per order for 5xx answers")
    parser.add_argument("--assembly", default=None, help="an existing cloud assembly (default: synthesize)")
    parser.add_argument("--work-dir", type=Path, default=None, help="the cloud's logs (default: a new temp dir, kept)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    random.seed(args.seed)
    outage = None if args.outage == "none" else args.outage
    # Injected failures make moto's interpreter log every failed state; the figures say what matters.
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    # Wide enough for the tables when the output is a file or a pipe (a terminal keeps its width).
    console = Console() if sys.stdout.isatty() else Console(width=140)

    from local.cli import synthesize
    from local.cloud import LocalCloud
    from ops.checker import check
    from ops.clients import Clients, local_session

    work_dir = args.work_dir or Path(tempfile.mkdtemp(prefix="orderflow-chaos-"))
    with tempfile.TemporaryDirectory() as scratch:
        assembly = Path(args.assembly) if args.assembly else Path(scratch)
        if not args.assembly:
            synthesize(assembly, None, console)
        cloud = LocalCloud.from_assembly(
            assembly, api_port=0, redelivery_delay=0.5, max_concurrency=3, prewarm=True, work_dir=work_dir
        )
        with console.status("starting the local cloud"):
            cloud.start()
        try:
            started = time.monotonic()
            http = requests.Session()
            http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=args.clients))
            skus = [f"chaos-{uuid.uuid4().hex[:6]}" for _ in range(args.skus)]
            demand_per_sku = max(1, args.orders * 3 // 2 // args.skus)
            for sku in skus:
                stock = {"available": demand_per_sku * 2 // 3, "price_cents": random.randint(100, 5000)}
                http.put(f"{cloud.api_url}/inventory/{sku}", json=stock, timeout=30).raise_for_status()

            parameter = _faults_parameter(cloud)
            ssm = cloud.client("ssm")

            def switch(document: dict[str, Any]) -> None:
                ssm.put_parameter(Name=parameter, Value=json.dumps(document), Overwrite=True)

            switch(faults_document(args.failure_rate, args.late_rate))

            bodies = [
                {
                    "customer_id": f"chaos-{i}",
                    "items": [
                        {"sku": sku, "quantity": random.randint(1, 2)}
                        for sku in random.sample(skus, random.choice((1, 1, 2)))
                    ],
                    "payment": {"token": random.choice(TOKENS)},
                    "flow": random.choice(("orchestrated", "choreographed")),
                }
                for i in range(args.orders)
            ]
            outcomes: list[Outcome] = []
            outage_window: list[float] = []
            with Progress(console=console, transient=True) as progress, ThreadPoolExecutor(args.clients) as pool:
                task = progress.add_task(
                    f"{args.orders} orders at {args.failure_rate:.0%} injected failures", total=args.orders
                )
                for outcome in pool.map(lambda b: place(http, cloud.api_url, b, args.attempts), bodies):
                    outcomes.append(outcome)
                    progress.advance(task)
                    if outage and len(outcomes) == args.orders // 3:
                        switch(faults_document(args.failure_rate, args.late_rate, outage))
                        outage_window.append(time.monotonic())
                        progress.console.print(f"outage: {outage}.* down")
                    elif outage and len(outcomes) == 2 * args.orders // 3:
                        # Long enough for messages to fail their 5 receives and be parked.
                        time.sleep(max(0.0, outage_window[0] + args.outage_seconds - time.monotonic()))
                        switch(faults_document(args.failure_rate, args.late_rate))
                        outage_window.append(time.monotonic())
                        progress.console.print(f"outage: {outage}.* back")
            placed_in = time.monotonic() - started

            switch({})
            time.sleep(FAULT_SETTLE_SECONDS)
            moved, reconciled, undecided = settle(cloud, console)

            clients = Clients.from_session(local_session(cloud.region), endpoint_url=cloud.endpoint_url)
            report = check(clients, resources_of(cloud), settled=True)
            figures = summarize(cloud, outcomes, report, moved, placed_in, time.monotonic() - started, args)
            figures |= {
                "reconciler_runs": reconciled,
                "undecided": undecided,
                "parked": sum(report.messages.values()),
                "outage": {
                    "service": outage,
                    "seconds": round(outage_window[1] - outage_window[0], 1) if len(outage_window) == 2 else 0,
                },
            }
        finally:
            cloud.stop()

    injected = injected_faults(work_dir / "logs")
    figures["injected"] = {name: sum(n for (c, _), n in injected.items() if c == name) for name in FAILURE_CLASSES}
    figures["injected_by_operation"] = {
        name: dict(sorted(((op, n) for (c, op), n in injected.items() if c == name), key=lambda kv: -kv[1]))
        for name in FAILURE_CLASSES
    }
    figures["logs"] = str(work_dir / "logs")
    print_classes(console, figures)
    print_figures(console, figures, report)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    findings = figures["lost"] + figures["violations"] + figures["undecided"] + figures["parked"]
    missing = [name for name in FAILURE_CLASSES if not figures["injected"][name]]
    if missing:
        console.print(f"[red]no fault of class {', '.join(missing)} was injected")
    return 0 if findings == 0 and not missing else 1


def _faults_parameter(cloud: Any) -> str:
    for logical_id, resource in cloud.resources.items():
        if logical_id.startswith("FaultInjection"):
            return str(resource.physical_id)
    raise SystemExit("the template has no FaultInjection parameter")


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


if __name__ == "__main__":
    raise SystemExit(main())
