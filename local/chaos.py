"""`python -m local.chaos` (make chaos): orders under injected faults, recovery, then the checker.

1. The app runs on the local cloud; every service operation fails at --failure-rate
   (the fault-injection document in SSM, the same mechanism a deployed stack uses).
2. --orders orders across both flows, from parallel clients that retry 5xx answers with the
   same Idempotency-Key as a real client would, against limited stock and a mix of cards.
3. Recovery: faults off, the system drains, every DLQ is redriven until none holds anything.
4. The invariant checker reads every table and queue.

It prints accepted / confirmed / rejected / lost / violations and exits 1 on any loss or violation.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

SERVICES = ("orders", "inventory", "payments", "shipping", "notifications")
TOKENS = ("tok_visa",) * 8 + ("tok_chargeDeclined", "tok_transient")
RETRYABLE = {500, 502, 503, 504}


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


def faults_document(rate: float) -> dict[str, Any]:
    return {f"{service}.*": {"failure_rate": rate} for service in SERVICES}


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


def recover(cloud: Any, console: Console, rounds: int = 6) -> Counter[str]:
    """Faults off, drain, redrive every DLQ until nothing is left anywhere."""
    from ops.clients import Clients, local_session
    from ops.redrive import redrive
    from ops.topology import DEAD_LETTER_QUEUES

    clients = Clients.from_session(local_session(cloud.region), endpoint_url=cloud.endpoint_url)
    resources = resources_of(cloud)
    moved: Counter[str] = Counter()
    for round_number in range(1, rounds + 1):
        cloud.wait_idle(timeout=300)
        results = redrive(clients, resources, list(DEAD_LETTER_QUEUES))
        waiting = {name: r.waiting for name, r in results.items() if r.waiting}
        for name, result in results.items():
            moved[name] += result.moved
        console.print(f"recovery round {round_number}: redriven {waiting or 'nothing'}")
        if not waiting:
            break
    cloud.wait_idle(timeout=300)
    return moved


def resources_of(cloud: Any) -> Any:
    from ops.resources import Resources

    return Resources.from_dict({logical: r.physical_id for logical, r in cloud.resources.items()})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--failure-rate", type=float, default=0.2)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--skus", type=int, default=10, help="skus, each stocked below its demand")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--attempts", type=int, default=6, help="tries per order for 5xx answers")
    parser.add_argument("--assembly", default=None, help="an existing cloud assembly (default: synthesize)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    random.seed(args.seed)
    # Injected failures make moto's interpreter log every failed state; the figures say what matters.
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    console = Console()

    from local.cli import synthesize
    from local.cloud import LocalCloud
    from ops.checker import check
    from ops.clients import Clients, local_session

    with tempfile.TemporaryDirectory() as scratch:
        assembly = Path(args.assembly) if args.assembly else Path(scratch)
        if not args.assembly:
            synthesize(assembly, None, console)
        cloud = LocalCloud.from_assembly(assembly, api_port=0, redelivery_delay=0.5, max_concurrency=3, prewarm=True)
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
            ssm.put_parameter(Name=parameter, Value=json.dumps(faults_document(args.failure_rate)), Overwrite=True)

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
            with Progress(console=console, transient=True) as progress, ThreadPoolExecutor(args.clients) as pool:
                task = progress.add_task(
                    f"{args.orders} orders at {args.failure_rate:.0%} injected failures", total=args.orders
                )
                for outcome in pool.map(lambda b: place(http, cloud.api_url, b, args.attempts), bodies):
                    outcomes.append(outcome)
                    progress.advance(task)
            placed_in = time.monotonic() - started

            ssm.put_parameter(Name=parameter, Value="{}", Overwrite=True)
            moved = recover(cloud, console)

            clients = Clients.from_session(local_session(cloud.region), endpoint_url=cloud.endpoint_url)
            report = check(clients, resources_of(cloud), settled=True)
            figures = summarize(cloud, outcomes, report, moved, placed_in, time.monotonic() - started, args)
        finally:
            cloud.stop()

    print_figures(console, figures, report)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if figures["lost"] == 0 and figures["violations"] == 0 else 1


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
        "accepted": len(accepted),
        "refused": len(outcomes) - len(accepted),
        "confirmed": terminal.get("CONFIRMED", 0),
        "rejected": terminal.get("REJECTED", 0),
        "lost": lost,
        "violations": len(report.violations),
        "client_retries": sum(o.attempts - 1 for o in outcomes),
        "redriven": dict(moved),
        "by_flow": {"/".join(filter(None, key)): n for key, n in sorted(by_flow.items())},
        "placed_seconds": round(placed_in, 1),
        "total_seconds": round(total, 1),
    }


def print_figures(console: Console, figures: dict[str, Any], report: Any) -> None:
    table = Table(title=f"chaos: {figures['orders']} orders at {figures['failure_rate']:.0%} injected failures")
    for column in (
        "accepted",
        "confirmed",
        "rejected",
        "lost",
        "violations",
        "refused",
        "client retries",
        "redriven",
        "seconds",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        str(figures["accepted"]),
        str(figures["confirmed"]),
        str(figures["rejected"]),
        f"[{'red' if figures['lost'] else 'green'}]{figures['lost']}",
        f"[{'red' if figures['violations'] else 'green'}]{figures['violations']}",
        str(figures["refused"]),
        str(figures["client_retries"]),
        str(sum(figures["redriven"].values())),
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


if __name__ == "__main__":
    raise SystemExit(main())
