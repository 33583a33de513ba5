"""`python -m local.compare` (make compare): orchestration against choreography, in numbers.

A fixed, seeded workload (confirmed, out of stock, declined on both paths) runs through the local
REST API of a fresh, metered local cloud (local.meter). From what the meter counted per order it
writes docs/comparison.md: time to a decision measured locally and modeled for AWS (Monte Carlo
over the published per-hop latencies of docs/model/aws-2026.json plus the measured handler time
on the critical path), cost per million orders by service (counts x unit prices), Lambda
invocations on the critical path and in all, and the coupling between services read from the
template (IAM grants, rule patterns, state machine definitions).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import random
import statistics
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from local.meter import Invocation, Meter, Usage

GENERATOR = "local.compare 2"
ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "docs" / "model" / "aws-2026.json"
# The figures before issue 10's changes, shown beside the run's own.
BASELINE = ROOT / "docs" / "model" / "baseline-2026-12-02.json"
OUTPUT = ROOT / "docs" / "comparison.md"
PATHS = ("orchestrated", "choreographed")
OUTCOMES = ("confirmed", "out of stock", "declined")
SERVICES = ("Lambda", "Step Functions", "EventBridge", "SQS", "DynamoDB", "API Gateway", "Logs")
SECTIONS = (
    "## Workload",
    "## Before and after",
    "## Time to a decision",
    "## Cost per million orders",
    "## Lambda invocations",
    "## Functions",
    "## Counts per order",
    "## Coupling",
    "## How it is computed",
)
MONTE_CARLO_SAMPLES = 200


@dataclass
class Order:
    index: int
    path: str
    outcome: str
    correlation_id: str
    status: int = 0
    order_id: str = ""
    final_status: str = ""


@dataclass
class OrderFigures:
    order: Order
    usage: Usage
    local_ms: float | None
    critical: list[tuple[str, Invocation]] = field(default_factory=list)  # (hop, invocation)
    service_hops: list[str] = field(default_factory=list)  # hops on the path that run no function


# -- workload ------------------------------------------------------------------------------------


def plan(orders_per_case: int, seed: int) -> list[Order]:
    cases = [(path, outcome) for path in PATHS for outcome in OUTCOMES for _ in range(orders_per_case)]
    random.Random(seed).shuffle(cases)
    return [Order(i, path, outcome, f"cmp-{seed}-{i:04d}") for i, (path, outcome) in enumerate(cases)]


def run_workload(cloud: Any, orders: list[Order], seed: int, clients: int, say: Any) -> None:
    api = cloud.api_url
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=max(4, clients)))
    stocked, empty = f"cmp-{seed}-stocked", f"cmp-{seed}-empty"
    for sku, available in ((stocked, 10 * len(orders) + 10), (empty, 0)):
        http.put(f"{api}/inventory/{sku}", json={"available": available, "price_cents": 1250}).raise_for_status()

    def body(path: str, outcome: str) -> dict[str, Any]:
        return {
            "customer_id": "compare",
            "flow": path,
            "items": [{"sku": empty if outcome == "out of stock" else stocked, "quantity": 1}],
            "payment": {"token": "tok_chargeDeclined" if outcome == "declined" else "tok_visa"},
        }

    for path in PATHS:  # warm every function once; these orders are not counted
        for outcome in OUTCOMES:
            http.post(f"{api}/orders", json=body(path, outcome), headers={"X-Correlation-Id": "warm-up"}, timeout=60)
    cloud.wait_idle(120)
    cloud.meter.reset()  # count the workload only

    def place(order: Order) -> Order:
        response = http.post(
            f"{api}/orders",
            json=body(order.path, order.outcome),
            headers={"X-Correlation-Id": order.correlation_id, "Idempotency-Key": order.correlation_id},
            timeout=60,
        )
        order.status = response.status_code
        order.order_id = str(response.json().get("order_id", "")) if response.content else ""
        return order

    done = 0
    with ThreadPoolExecutor(clients) as pool:
        for _ in pool.map(place, orders):
            done += 1
            if done % 10 == 0 or done == len(orders):
                say(f"  placed {done}/{len(orders)} orders")
    say("  waiting for the choreography to settle")
    cloud.wait_idle(300)
    for order in orders:  # read without a correlation id: these reads count for no order
        if order.order_id:
            answer = http.get(f"{api}/orders/{order.order_id}", timeout=30).json()
            order.final_status = str(answer.get("status", ""))
    cloud.wait_idle(60)


# -- analysis -----------------------------------------------------------------------------------


def hop_of(invocation: Invocation, express_windows: list[tuple[float, float]]) -> str:
    if invocation.trigger == "api":
        return "apigateway_lambda"
    if invocation.trigger == "sqs":
        return "eventbridge_target+sqs_lambda"
    if invocation.trigger == "sqs-fifo":
        return "eventbridge_target+sqs_fifo_lambda"
    if invocation.trigger == "stream":
        return "dynamodb_stream_lambda"
    if invocation.trigger == "eventbridge":
        return "eventbridge_target"
    inside = any(start - 0.05 <= invocation.start <= end + 0.05 for start, end in express_windows)
    return "express_sync_task" if inside else "standard_sync_task"


def figures_for(order: Order, meter: Meter, usage: Usage) -> OrderFigures:
    cid = order.correlation_id
    mine = sorted((i for i in meter.invocations if cid in i.correlation_ids), key=lambda i: i.start)
    windows = [(e.start, e.end) for e in meter.executions if e.type == "EXPRESS" and cid in e.correlation_ids]
    api = next((i for i in mine if i.trigger == "api"), None)
    decision = next((i for i in mine if cid in i.decisions), None)
    if api is None:
        return OrderFigures(order, usage, None)
    if decision is None:
        decision = api
    local_ms = (decision.end - api.start) * 1000
    if order.path == "orchestrated":
        path = [api] + [i for i in mine if i.trigger == "invoke" and api.start <= i.start <= decision.end]
        # the saga's direct DynamoDB tasks (ReadOrder) are hops of their own, with no handler
        direct = sum(e.dynamodb_tasks for e in meter.executions if e.type == "EXPRESS" and cid in e.correlation_ids)
        hops = [(hop_of(i, windows), i) for i in path]
        return OrderFigures(order, usage, local_ms, hops, ["express_dynamodb_task"] * direct)
    else:  # back from the decision: each step's cause is the order's invocation that ended last before it began
        path = [decision]
        while path[-1] is not api:
            current = path[-1]
            before = [i for i in mine if i.end <= current.start + 0.001 and i is not current and i not in path]
            path.append(max(before, key=lambda i: i.end) if before else api)
        path.reverse()
    return OrderFigures(order, usage, local_ms, [(hop_of(i, windows), i) for i in path])


def sampler(model: dict[str, Any], rng: random.Random) -> Any:
    """Draws one hop latency: log-linear between the published quantiles (0.5, 0.9, 0.99)."""

    def draw(hop: str) -> float:
        total = 0.0
        for part in hop.split("+"):
            spec = model["latency_ms"][part]
            p50, p90, p99 = spec["p50"], spec["p90"], spec["p99"]
            points = [(0.0, p50 * p50 / p90), (0.5, p50), (0.9, p90), (0.99, p99), (1.0, p99 * p99 / p90)]
            u = rng.random()
            for (q0, v0), (q1, v1) in itertools.pairwise(points):
                if u <= q1:
                    share = (u - q0) / (q1 - q0)
                    total += math.exp(math.log(v0) + share * (math.log(v1) - math.log(v0)))
                    break
        return total

    return draw


def handler_ms(figure: OrderFigures) -> float:
    """Handler time on the critical path: a step waiting for the next (the API for its saga) counts until it starts."""
    steps = [invocation for _, invocation in figure.critical]
    total = 0.0
    for step, following in itertools.zip_longest(steps, steps[1:]):
        end = step.end if following is None else min(step.end, following.start)
        total += max(0.0, end - step.start) * 1000
    return total


def modeled_latencies(figures: list[OrderFigures], model: dict[str, Any], seed: int) -> list[float]:
    draw = sampler(model, random.Random(seed))
    samples = []
    for figure in figures:
        handler = handler_ms(figure)
        for _ in range(MONTE_CARLO_SAMPLES):
            hops = [hop for hop, _ in figure.critical] + figure.service_hops
            samples.append(handler + sum(draw(hop) for hop in hops))
    return samples


def cost_per_million(
    usage: dict[str, float], prices: dict[str, Any], rules: dict[str, Any], arch: str
) -> dict[str, float]:
    """Dollars per million orders, per service, for one order's mean counts."""
    gb = rules["gb_bytes"]
    per_order = {
        "Lambda": usage.get("lambda_invocations", 0) * prices["lambda_per_million_requests"] / 1e6
        + usage.get("lambda_gb_seconds", 0) * prices[f"lambda_per_gb_second_{arch}"],
        "Step Functions": usage.get("express_executions", 0) * prices["express_per_million_requests"] / 1e6
        + usage.get("express_gb_seconds", 0) * prices["express_per_gb_second"]
        + usage.get("standard_transitions", 0) * prices["standard_per_thousand_transitions"] / 1e3,
        "EventBridge": usage.get("putevents_entries", 0) * prices["eventbridge_per_million_custom_events"] / 1e6
        + usage.get("event_bytes", 0) / gb * prices["eventbridge_archive_per_gb"],
        "SQS": sum(usage.get(k, 0) for k in ("sqs_send", "sqs_receive", "sqs_delete", "sqs_change_visibility"))
        * prices["sqs_per_million_requests"]
        / 1e6,
        "DynamoDB": usage.get("dynamodb_wru", 0) * prices["dynamodb_per_million_write_units"] / 1e6
        + usage.get("dynamodb_rru", 0) * prices["dynamodb_per_million_read_units"] / 1e6,
        "API Gateway": usage.get("api_requests", 0) * prices["api_gateway_rest_per_million_requests"] / 1e6,
        "Logs": usage.get("log_bytes", 0) / gb * prices["logs_ingestion_per_gb"],
    }
    return {service: dollars * 1e6 for service, dollars in per_order.items()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def mean_usage(figures: list[OrderFigures]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for figure in figures:
        for name, value in figure.usage.counts.items():
            totals[name] += value
    return {name: value / max(1, len(figures)) for name, value in totals.items()}


# -- coupling from the template -----------------------------------------------------------------


def _service(resource: dict[str, Any]) -> str:
    parts = str(resource.get("Metadata", {}).get("aws:cdk:path", "")).split("/")
    return parts[1] if len(parts) > 2 else ""


def _refs(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                found.add(str(target))
            else:
                found |= _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _refs(inner)
    return found


def coupling(template: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """Per service: what it calls (IAM grants, state machine tasks) and whose events it must know (rules)."""
    resources = template.get("Resources", {})
    owner = {logical_id: _service(resource) for logical_id, resource in resources.items()}
    result: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"calls": set(), "events": set()})
    for resource in resources.values():
        service = _service(resource)
        props = resource.get("Properties", {})
        kind = resource.get("Type")
        if kind == "AWS::IAM::Policy":
            roles = {owner.get(ref, "") for ref in _refs(props.get("Roles"))}
            for statement in props.get("PolicyDocument", {}).get("Statement", []):
                actions = statement.get("Action", [])
                actions = [actions] if isinstance(actions, str) else actions
                prefixes = sorted({str(a).split(":")[0] for a in actions})
                for target in _refs(statement.get("Resource")):
                    callee = owner.get(target, "")
                    for role_service in roles:
                        if callee and role_service and callee != role_service and not _is_ops(prefixes):
                            result[role_service]["calls"].add(f"{callee} ({', '.join(prefixes)})")
        elif kind == "AWS::Events::Rule" and props.get("EventPattern"):
            sources = props["EventPattern"].get("source", [])
            types = props["EventPattern"].get("detail-type", [])
            names = [
                f"every service ({source['prefix']}*)"
                if isinstance(source, dict)
                else str(source).split(".")[-1].title()
                for source in sources
            ]
            result[service]["events"].add(f"{'/'.join(names)}: {', '.join(types)}" if types else "/".join(names))
        elif kind == "AWS::StepFunctions::StateMachine":
            for target in _refs(props.get("DefinitionString")):
                callee = owner.get(target, "")
                if callee and callee != service and resources.get(target, {}).get("Type") == "AWS::Lambda::Function":
                    result[service]["calls"].add(f"{callee} (task)")
    return dict(result)


def _is_ops(prefixes: list[str]) -> bool:
    """Grants that are plumbing, not coupling: logs, X-Ray, KMS, metrics."""
    return all(prefix in ("logs", "xray", "kms", "cloudwatch") for prefix in prefixes)


# -- document -----------------------------------------------------------------------------------


def render(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# Orchestration against choreography, in numbers",
        "",
        f"<!-- generator: {GENERATOR}; model: {meta['model_version']}; seed: {meta['seed']} -->",
        "",
        f"Written by `make compare` (`python -m local.compare`, generator `{GENERATOR}`, seed {meta['seed']},",
        f"model `{meta['model_version']}` from [docs/model/aws-2026.json](model/aws-2026.json))",
        f"on {meta['measured_at']},",
        f"{meta['machine']}, Python {meta['python']}. Local figures are orderflow's code on moto on this machine;",
        "AWS figures are modeled from them (see the last section), not measured on AWS.",
        "",
        "## Workload",
        "",
        f"{meta['orders_per_case']} orders per path and outcome ({meta['orders']} in all), shuffled with seed"
        f" {meta['seed']}, {meta['clients']} clients in parallel, through the local REST API after one warm-up order",
        "per path and outcome. Confirmed: stock and `tok_visa`; out of stock: a SKU with none; declined:",
        "`tok_chargeDeclined`.",
        "",
        "| path | outcome | orders | HTTP answers | final status |",
        "|---|---|---:|---|---|",
    ]
    rows = results["rows"]
    for row in rows:
        lines.append(f"| {row['path']} | {row['outcome']} | {row['orders']} | {row['answers']} | {row['final']} |")
    baseline = results.get("baseline") or {}
    if baseline:
        lines += [
            "",
            "## Before and after",
            "",
            f"Before: {baseline['description']} (measured {baseline['measured_at']}). After: this run.",
            "Goals (issue 10), modeled at us-east-1: at most 4 Lambda invocations on the orchestrated",
            "critical path, ≤ $20 per million orchestrated orders, ≤ $25 per million choreographed",
            "orders, orchestrated p50 to a decision ≤ 400 ms.",
            "",
            "| path | outcome | critical-path invocations | invocations in all | AWS-modeled p50 ms "
            "| AWS-modeled p99 ms | $ per million (us-east-1) |",
            "|---|---|---|---|---|---|---|",
        ]
        us_east = {(c["path"], c["outcome"]): c["total"] for c in results["costs"].get("us-east-1", [])}
        for row in rows:
            old = baseline["rows"].get(f"{row['path']}|{row['outcome']}")
            if not old:
                continue
            cost = us_east.get((row["path"], row["outcome"]), float("nan"))
            lines.append(
                f"| {row['path']} | {row['outcome']} | {old['critical_invocations']:.1f} → "
                f"**{row['critical_invocations']:.1f}** | {old['invocations']:.1f} → **{row['invocations']:.1f}** | "
                f"{old['aws_p50']:.0f} → **{row['aws_p50']:.0f}** | {old['aws_p99']:.0f} → **{row['aws_p99']:.0f}** | "
                f"${old['cost_us_east_1']:.2f} → **${cost:.2f}** |"
            )
        for path in PATHS:
            mixed_old = statistics.mean(baseline["rows"][f"{path}|{o}"]["cost_us_east_1"] for o in OUTCOMES)
            mixed_new = statistics.mean(us_east[(path, o)] for o in OUTCOMES)
            lines.append(
                f"| {path} | *the three outcomes, equally mixed* | | | | | ${mixed_old:.2f} → **${mixed_new:.2f}** |"
            )
    lines += [
        "",
        "## Time to a decision",
        "",
        "From the API request to the end of the invocation that wrote the decision (the one that emits",
        f"TimeToDecision). AWS-modeled: {MONTE_CARLO_SAMPLES} Monte Carlo draws per order over the critical",
        "path's hops plus the handler time measured locally on that path.",
        "",
        "| path | outcome | local p50 ms | local p99 ms | AWS-modeled p50 ms | AWS-modeled p99 ms "
        "| handler ms on the path (p50) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['path']} | {row['outcome']} | {row['local_p50']:.0f} | {row['local_p99']:.0f} | "
            f"{row['aws_p50']:.0f} | {row['aws_p99']:.0f} | {row['handler_p50']:.0f} |"
        )
    for region, table in results["costs"].items():
        lines += [
            "",
            f"## Cost per million orders ({region})" if region == "us-east-1" else f"### {region}",
            "",
            "Counts per order (mean) times the unit prices of the model"
            + ("." if region == "us-east-1" else f" ({results['price_notes'][region]})."),
            "",
            "| path | outcome | " + " | ".join(SERVICES) + " | total |",
            "|---|---|" + "---:|" * (len(SERVICES) + 1),
        ]
        for row in table:
            cells = " | ".join(f"${row['services'][s]:.2f}" for s in SERVICES)
            lines.append(f"| {row['path']} | {row['outcome']} | {cells} | **${row['total']:.2f}** |")
    lines[lines.index("## Cost per million orders (us-east-1)")] = "## Cost per million orders"
    lines += [
        "",
        "Idle polling is not in these figures: the pollers' empty receives"
        f" ({results['empty_receives']} during the run) are a fixed cost per queue, whatever the number of orders.",
        "",
        "## Lambda invocations",
        "",
        "| path | outcome | on the critical path | in all (mean) | critical path |",
        "|---|---|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['path']} | {row['outcome']} | {row['critical_invocations']:.1f} | "
            f"{row['invocations']:.1f} | {row['critical_path']} |"
        )
    lines += [
        "",
        "## Functions",
        "",
        "Every invocation of the run (workload only), per function: measured duration here (handler",
        "time on this machine, moto's answers included), and the memory and architecture the template",
        "gives it. These durations chose the memory (docs/decisions.md).",
        "",
        "| function | architecture | memory MB | invocations | p50 ms | p90 ms | p99 ms | GB-s per 1,000 invocations |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for fn in results["functions"]:
        lines.append(
            f"| {fn['name']} | {fn['arch']} | {fn['memory_mb']} | {fn['invocations']} | {fn['p50']:.0f} | "
            f"{fn['p90']:.0f} | {fn['p99']:.0f} | {fn['gb_s_per_k']:.1f} |"
        )
    lines += [
        "",
        "## Counts per order",
        "",
        "Means per order, as the meter counted them (`local/meter.py`).",
        "",
        "| path | outcome | API requests | Lambda invocations | Lambda GB-s | Express executions "
        "| Standard transitions | PutEvents entries | rule deliveries | SQS requests | DynamoDB WRU | DynamoDB RRU "
        "| log KB |",
        "|---|---|" + "---:|" * 11,
    ]
    for row in rows:
        u = row["usage"]
        sqs = sum(u.get(k, 0) for k in ("sqs_send", "sqs_receive", "sqs_delete", "sqs_change_visibility"))
        lines.append(
            f"| {row['path']} | {row['outcome']} | {u.get('api_requests', 0):.1f} | "
            f"{u.get('lambda_invocations', 0):.1f} | {u.get('lambda_gb_seconds', 0):.3f} | "
            f"{u.get('express_executions', 0):.1f} | {u.get('standard_transitions', 0):.1f} | "
            f"{u.get('putevents_entries', 0):.1f} | {u.get('rule_deliveries', 0):.1f} | {sqs:.1f} | "
            f"{u.get('dynamodb_wru', 0):.1f} | {u.get('dynamodb_rru', 0):.1f} | {u.get('log_bytes', 0) / 1024:.1f} |"
        )
    lines += [
        "",
        "## Coupling",
        "",
        "Read from the synthesized template: which services each one calls (IAM grants to another",
        "service's resources, state machine tasks) and whose events it must know (its rules' patterns).",
        "",
        "| service | calls | must know the events of |",
        "|---|---|---|",
    ]
    for service, edges in sorted(results["coupling"].items()):
        calls = "; ".join(sorted(edges["calls"])) or "—"
        events = "; ".join(sorted(edges["events"])) or "—"
        lines.append(f"| {service} | {calls} | {events} |")
    lines += [
        "",
        "## How it is computed",
        "",
        "- **Counts** come from the local cloud's meter as the calls happen, per correlation id (the",
        "  driver sets `X-Correlation-Id`): Lambda invocations with their measured duration and the",
        "  template's MemorySize, Step Functions executions (Express duration, Standard transitions from",
        "  the execution history), PutEvents entries, rule deliveries, SQS requests, DynamoDB request",
        "  units from item sizes, log bytes. A function's AWS calls are attributed through the X-Ray",
        "  trace header botocore sends from inside an invocation.",
        "- **Critical path**: orchestrated, the API invocation and the saga's tasks up to the decision;",
        "  choreographed, walked back from the decision, each step's cause being the order's invocation",
        "  that ended last before it began. Each step's hop is chosen by its trigger: API Gateway,",
        "  EventBridge rule then SQS, DynamoDB stream, Express or Standard task. The choreographed walk",
        "  is a timing heuristic: a consumer running beside the chain (the timeline) can stand in for",
        "  the real cause, with its own hop and handler time.",
        "- **Handler time on the path**: each step until the next one starts (the API function waits",
        "  for its saga, which is counted step by step instead).",
        "- **AWS-modeled latency** = the sum over the critical path of one draw per hop (log-linear between",
        "  the published p50, p90 and p99) plus the handler time measured here, which includes moto's",
        "  answers and this machine's speed, so it overstates AWS's handler time.",
        "- **Cost** = mean counts per order x unit prices; Lambda GB-s from measured local durations",
        "  (again an overstatement), Express at 64 MB per 100 ms, SQS and EventBridge per 64 KB chunk.",
        "- The saga's direct DynamoDB task (ReadOrder) runs no function: it is a hop of its own on the",
        "  critical path (`express_dynamodb_task` below), with no handler time; its request units are",
        "  the order's (the interpreter's requests carry a trace header naming their execution).",
        "- The simulated card processor's ledger (`SIM#` items in the payments table) stands in for the",
        "  processor's own systems: its request units are counted apart (`processor_wru`/`processor_rru`",
        "  in the meter) and not billed to orderflow.",
        "- Not counted: Step Functions' own logs (LoggingConfiguration), X-Ray, CloudWatch metrics and",
        "  alarms, KMS requests, data transfer, and the free tier.",
        "",
        "Latency inputs (ms):",
        "",
        "| hop | p50 | p90 | p99 | source |",
        "|---|---:|---:|---:|---|",
    ]
    for spec in results["model"]["latency_ms"].values():
        lines.append(
            f"| {spec['hop']} | {spec['p50']} | {spec['p90']} | {spec['p99']} | {spec['source']}, {spec['date']} |"
        )
    return "\n".join(lines) + "\n"


# -- main ---------------------------------------------------------------------------------------


def analyse(
    cloud: Any, orders: list[Order], model: dict[str, Any], seed: int, template: dict[str, Any]
) -> dict[str, Any]:
    meter: Meter = cloud.meter
    usage = meter.usage()
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
                    "handler_p50": percentile(handler, 50),
                    "critical_invocations": statistics.mean(len(f.critical) for f in decided) if decided else 0.0,
                    "critical_max": max((len(f.critical) for f in decided), default=0),
                    "invocations": mean.get("lambda_invocations", 0.0),
                    "critical_path": " → ".join(_short(i.function) for _, i in example.critical) if example else "",
                    "usage": mean,
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
        functions.append(
            {
                "name": _short(name),
                "arch": arch,
                "memory_mb": invocations[0].memory_mb,
                "invocations": len(invocations),
                "p50": percentile(durations, 50),
                "p90": percentile(durations, 90),
                "p99": percentile(durations, 99),
                "gb_s_per_k": 1000 * statistics.mean(i.gb_seconds for i in invocations),
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
        "model": model,
    }


def _tally(values: Any) -> str:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return ", ".join(f"{key}×{count}" for key, count in sorted(counts.items()))


def _short(function_name: str) -> str:
    name = function_name.split("-", 1)[-1]
    return name[:-8] if len(name) > 8 and name[-8:].isalnum() and any(c.isdigit() for c in name[-8:]) else name


def compare(
    orders_per_case: int, seed: int, clients: int, assembly: Path | None = None, say: Any = print
) -> tuple[dict[str, Any], str]:
    from rich.console import Console

    from local.cli import synthesize
    from local.cloud import LocalCloud

    model = json.loads(MODEL.read_text())
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
            metered=True,
            schedules=False,
            work_dir=Path(scratch) / "work",
        )
        cloud.start()
        try:
            orders = plan(orders_per_case, seed)
            say(f"placing {len(orders)} orders ({orders_per_case} per path and outcome), seed {seed}")
            started = time.monotonic()
            run_workload(cloud, orders, seed, clients, say)
            say(f"  done in {time.monotonic() - started:.1f} s; analysing")
            results = analyse(cloud, orders, model, seed, cloud.stack.template)
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
        "python": platform.python_version(),
    }
    return results, render(results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=30, help="orders per path and outcome (default 30)")
    parser.add_argument("--seed", type=int, default=2026, help="workload and Monte Carlo seed (default 2026)")
    parser.add_argument("--clients", type=int, default=2, help="parallel clients (default 2)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the document")
    parser.add_argument("--assembly", type=Path, help="an assembly synthesized already (default: synthesize now)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    _, markdown = compare(
        args.orders, args.seed, args.clients, args.assembly, say=lambda message: print(message, flush=True)
    )
    if args.no_write:
        print(markdown)
    else:
        args.output.write_text(markdown)
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
