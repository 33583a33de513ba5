"""A comparison run: a fresh metered local cloud, the workload, the analysis, the document (`make compare`)."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.meter import Invocation, Meter, Usage
from ops.compare.constants import BASELINE, FAULT_ORDERS, MODEL, OUTCOMES, OUTPUT, PATHS
from ops.compare.deployed_cli import add_arguments
from ops.compare.deployed_cli import run as run_deployed
from ops.compare.durations import model_lambda_duration, modeled_duration_ms
from ops.compare.model import (
    _tally,
    cost_per_million,
    figures_for,
    floor_latencies,
    handler_ms,
    mean_usage,
    modeled_latencies,
    own_ms,
    percentile,
    reliability,
)
from ops.compare.render import render
from ops.compare.sections import draw_charts
from ops.compare.template_figures import complexity, coupling
from ops.compare.workload import Order, OrderFigures, plan, run_faults, run_workload


def analyse(
    cloud: Any, orders: list[Order], model: dict[str, Any], seed: int, template: dict[str, Any]
) -> dict[str, Any]:
    meter: Meter = cloud.meter
    usage = meter.usage()
    model_lambda_duration(meter, usage, model)
    arch = "x86_64"
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Lambda::Function":
            arch = (resource.get("Properties", {}).get("Architectures") or ["x86_64"])[0]
    rows = []
    costs: dict[str, list[dict[str, Any]]] = {region: [] for region in model["prices"]}
    for path in PATHS:
        for outcome in OUTCOMES:
            group = [o for o in orders if o.path == path and o.outcome == outcome]
            figures = [figures_for(o, meter, usage.get(o.correlation_id, Usage())) for o in group]
            decided = [f for f in figures if f.local_ms is not None]
            local = [f.local_ms for f in decided if f.local_ms is not None]
            modeled = modeled_latencies(decided, model, seed)
            handler = [handler_ms(f) for f in decided]
            mean = mean_usage(figures)
            cids = [o.correlation_id for o in group]
            log_groups = [len({i.function for i in meter.invocations if cid in i.correlation_ids}) for cid in cids]
            machines = [len({e.state_machine for e in meter.executions if cid in e.correlation_ids}) for cid in cids]
            example = max(decided, key=lambda f: len(f.critical)) if decided else None
            rows.append(
                {
                    "path": path,
                    "outcome": outcome,
                    "orders": len(group),
                    "answers": _tally(str(o.status) for o in group),
                    "final": _tally(o.final_status or "?" for o in group),
                    "local_p50": percentile(local, 50),
                    "local_p99": percentile(local, 99),
                    "aws_p50": percentile(modeled, 50),
                    "aws_p99": percentile(modeled, 99),
                    "aws_samples": modeled,
                    "handler_p50": percentile(handler, 50),
                    "own_p50": percentile([own_ms(f) for f in decided], 50),
                    "lambda_own_p50": percentile([f.lambda_own_ms for f in decided], 50),
                    "calls_mean": statistics.mean(len(f.aws_calls) for f in decided) if decided else 0.0,
                    "floor_p50": percentile(floor_latencies(decided, model, seed), 50),
                    "calls_by_service": _calls_by_service(decided),
                    "critical_invocations": statistics.mean(len(f.critical) for f in decided) if decided else 0.0,
                    "critical_max": max((len(f.critical) for f in decided), default=0),
                    "invocations": mean.get("lambda_invocations", 0.0),
                    "critical_path": " → ".join(_short(i.function) for _, i in example.critical) if example else "",
                    "usage": mean,
                    "function_logs": statistics.mean(log_groups) if log_groups else 0.0,
                    "machine_logs": statistics.mean(machines) if machines else 0.0,
                }
            )
            for region, prices in model["prices"].items():
                services = cost_per_million(mean, prices, model["billing_rules"], arch)
                costs[region].append(
                    {"path": path, "outcome": outcome, "services": services, "total": sum(services.values())}
                )
    functions = []
    by_function: dict[str, list[Invocation]] = defaultdict(list)
    for invocation in meter.invocations:
        by_function[invocation.function].append(invocation)
    for name, invocations in sorted(by_function.items(), key=lambda item: _short(item[0])):
        durations = [i.duration_ms for i in invocations]
        modeled_durations = [modeled_duration_ms(i, meter, model) for i in invocations]
        functions.append(
            {
                "name": _short(name),
                "arch": arch,
                "memory_mb": invocations[0].memory_mb,
                "invocations": len(invocations),
                "p50": percentile(durations, 50),
                "p90": percentile(durations, 90),
                "p99": percentile(durations, 99),
                "modeled_p50": percentile(modeled_durations, 50),
                "gb_s_per_k": 1000
                * statistics.mean(
                    i.memory_mb / 1024 * math.ceil(ms) / 1000
                    for i, ms in zip(invocations, modeled_durations, strict=True)
                ),
            }
        )
    empty = sum(amount for name, amount, _, _ in meter.counters if name == "sqs_empty_receives")
    notes = {
        region: p.get("note", p["source"]) if not p.get("verified") else p["source"]
        for region, p in model["prices"].items()
    }
    return {
        "rows": rows,
        "costs": costs,
        "price_notes": notes,
        "empty_receives": int(empty),
        "functions": functions,
        "coupling": coupling(template),
        "complexity": complexity(template),
        "model": model,
    }


def _calls_by_service(figures: list[OrderFigures]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for figure in figures:
        for service in figure.aws_calls:
            counts[service] += 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{service} {count / max(1, len(figures)):.1f}" for service, count in ordered)


def _short(function_name: str) -> str:
    name = function_name.split("-", 1)[-1]
    return name[:-8] if len(name) > 8 and name[-8:].isalnum() and any(c.isdigit() for c in name[-8:]) else name


def compare(
    orders_per_case: int,
    seed: int,
    clients: int,
    assembly: Path | None = None,
    say: Any = print,
    fault_orders: int = FAULT_ORDERS,
) -> tuple[dict[str, Any], str]:
    from rich.console import Console

    from local.cli import synthesize
    from local.cloud import LocalCloud

    model = json.loads(MODEL.read_text())
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        if assembly is None:
            assembly = Path(scratch) / "cdk.out"
            synthesize(assembly, None, Console())
        say("starting a fresh, metered local cloud")
        cloud = LocalCloud.from_assembly(
            assembly,
            api_port=0,
            max_concurrency=max(2, clients),
            prewarm=True,
            # A failed SQS message comes back after 0.2 s, not after its visibility timeout: the
            # shipping outage parks its messages in seconds. No consumer fails in the workload.
            redelivery_delay=0.2,
            metered=True,
            schedules=False,
            work_dir=Path(scratch) / "work",
        )
        meter = cloud.meter
        assert meter is not None
        meter.read_log_levels(cloud.stack.template)
        cloud.start()
        try:
            orders = plan(orders_per_case, seed)
            say(f"placing {len(orders)} orders ({orders_per_case} per path and outcome), seed {seed}")
            started = time.monotonic()
            run_workload(cloud, orders, seed, clients, say)
            say(f"  done in {time.monotonic() - started:.1f} s; analysing")
            results = analyse(cloud, orders, model, seed, cloud.stack.template)
            say("measuring reliability: the same orders under a payment outage, then a shipping outage")
            results["reliability"] = reliability(run_faults(cloud, seed, clients, say, fault_orders), meter)
        finally:
            cloud.stop()
    results["orders"] = orders
    results["baseline"] = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    results["meta"] = {
        "seed": seed,
        "orders_per_case": orders_per_case,
        "orders": len(orders),
        "clients": clients,
        "model_version": model["version"],
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        # Local durations, and through them the modeled handler time and Lambda cost, grow with it.
        "load": f"{load_before:.1f} before the run, {os.getloadavg()[0]:.1f} after",
        "python": platform.python_version(),
    }
    return results, render(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, help="orders per path and outcome (default 30; 5 with --stack)")
    parser.add_argument("--seed", type=int, default=2026, help="workload and Monte Carlo seed (default 2026)")
    parser.add_argument("--clients", type=int, default=2, help="parallel clients (default 2)")
    parser.add_argument(
        "--output", type=Path, help=f"where to write the document (default {OUTPUT.name}; with --stack: print only)"
    )
    parser.add_argument("--assembly", type=Path, help="an assembly synthesized already (default: synthesize now)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.stack:
        return run_deployed(args, say=lambda message: print(message, flush=True))
    args.orders = args.orders or 30
    args.output = args.output or OUTPUT
    results, markdown = compare(
        args.orders, args.seed, args.clients, args.assembly, say=lambda message: print(message, flush=True)
    )
    if args.no_write:
        print(markdown)
    else:
        args.output.write_text(markdown)
        print(f"wrote {args.output}")
        for chart in draw_charts(results, args.output.parent):
            print(f"wrote {chart}")
    return 0
