"""`python -m ops.chaos` (make chaos): orders under every failure class, an outage, recovery, the checker.

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
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.progress import Progress

from local.cli import synthesize
from local.cloud import LocalCloud
from ops import fault_document
from ops.chaos.recovery import resources_of, settle
from ops.chaos.report import print_classes, print_figures, summarize
from ops.chaos.workload import (
    FAILURE_CLASSES,
    LATE_MS,
    LATE_OPERATIONS,
    SERVICES,
    TOKENS,
    Outcome,
    faults_document,
    injected_faults,
    place,
)
from ops.checker import check
from ops.clients import Clients, local_session


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.chaos", description=__doc__.splitlines()[0])
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
            time.sleep(fault_document.settle_seconds(cloud.stack.template))
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


if __name__ == "__main__":
    raise SystemExit(main())
