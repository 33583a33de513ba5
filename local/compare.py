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

from local.meter import UNATTRIBUTED, Invocation, Meter, Usage

GENERATOR = "local.compare 3"
ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "docs" / "model" / "aws-2026.json"
# The figures before issue 10's changes, shown beside the run's own.
BASELINE = ROOT / "docs" / "model" / "baseline-2026-12-02.json"
OUTPUT = ROOT / "docs" / "comparison.md"
PATHS = ("orchestrated", "choreographed")
OUTCOMES = ("confirmed", "out of stock", "declined")
SERVICES = ("Lambda", "Step Functions", "EventBridge", "SQS", "DynamoDB", "API Gateway", "Logs", "KMS", "SNS")
SECTIONS = (
    "## Workload",
    "## Before and after",
    "## Time to a decision",
    "## Cost per million orders",
    "## Lambda invocations",
    "## Functions",
    "## Counts per order",
    "## Coupling",
    "## Visibility",
    "## Reliability",
    "## Complexity",
    "## How it is computed",
)
MONTE_CARLO_SAMPLES = 200
# Drawn beside the document (docs/), linked from it; `make compare` writes them, the test does not.
CHARTS = {"cost": "comparison-cost.png", "latency": "comparison-latency.png"}


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
    aws_wait_ms: float = 0.0  # of the handler time on the path: waiting for the local cloud's answers
    aws_calls: list[str] = field(default_factory=list)  # the services of the AWS calls the path completed


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


# -- reliability: the same orders under a fault -------------------------------------------------

# The fault documents of shared/faults.py that the local cloud reads from its FaultInjection parameter.
FAULTS = {
    "payment outage": {"payments.authorize": {"outage": True}},
    "shipping outage": {"shipping.*": {"outage": True}},
}
# Timeline events that undo or refuse what an earlier step did: the order's compensation, as recorded.
UNDOING = ("PaymentFailed", "InventoryReleased", "PaymentRefunded", "OrderRejected")
FAULT_ORDERS = 3  # per path and fault
FAULT_CACHE_SECONDS = 2.5  # each function process keeps the fault document 2 s (shared/faults.py)


@dataclass
class FaultRun:
    fault: str
    order: Order
    timeline: list[str] = field(default_factory=list)  # detail types, oldest first


def run_faults(cloud: Any, seed: int, clients: int, say: Any, per_path: int = FAULT_ORDERS) -> list[FaultRun]:
    """Places confirmable orders on both paths under each fault of FAULTS, waits until nothing moves,
    and reads each order's status and timeline while the fault still holds."""
    parameter = next(
        (str(r.physical_id) for logical_id, r in cloud.resources.items() if logical_id.startswith("FaultInjection")),
        None,
    )
    if parameter is None:
        say("  no FaultInjection parameter in the template: reliability not measured")
        return []
    ssm = cloud.client("ssm")
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=max(4, clients)))
    sku = f"cmp-{seed}-stocked"
    runs: list[FaultRun] = []
    body = {"customer_id": "compare", "items": [{"sku": sku, "quantity": 1}], "payment": {"token": "tok_visa"}}
    for number, (fault, document) in enumerate(FAULTS.items()):
        say(f"  {fault}: {per_path} orders per path")
        ssm.put_parameter(Name=parameter, Value=json.dumps(document), Overwrite=True)
        time.sleep(FAULT_CACHE_SECONDS)  # until every warm process has read the document again
        orders = [
            Order(1000 * (number + 1) + i, path, fault, f"cmp-{seed}-fault{number}-{path[:5]}-{i}")
            for path in PATHS
            for i in range(per_path)
        ]
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda order: _place(http, cloud.api_url, order, body | {"flow": order.path}), orders))
        cloud.wait_idle(300)
        for order in orders:
            run = FaultRun(fault, order)
            if order.order_id:
                answer = http.get(f"{cloud.api_url}/orders/{order.order_id}", timeout=30).json()
                order.final_status = f"{answer.get('status', '')} {answer.get('reason') or ''}".strip()
                timeline = http.get(f"{cloud.api_url}/orders/{order.order_id}/timeline", timeout=30).json()
                run.timeline = [str(event.get("detail_type")) for event in timeline.get("events", [])]
            runs.append(run)
        ssm.put_parameter(Name=parameter, Value="{}", Overwrite=True)
        time.sleep(FAULT_CACHE_SECONDS)
        cloud.wait_idle(120)
    return runs


def _place(http: requests.Session, api: str, order: Order, body: dict[str, Any]) -> Order:
    response = http.post(
        f"{api}/orders",
        json=body,
        headers={"X-Correlation-Id": order.correlation_id, "Idempotency-Key": order.correlation_id},
        timeout=120,
    )
    order.status = response.status_code
    order.order_id = str(response.json().get("order_id", "")) if response.content else ""
    return order


def reliability(runs: list[FaultRun], meter: Meter) -> list[dict[str, Any]]:
    usage = meter.usage()
    rows = []
    for fault in FAULTS:
        for path in PATHS:
            mine = [run for run in runs if run.fault == fault and run.order.path == path]
            if not mine:
                continue
            figures = [figures_for(run.order, meter, usage.get(run.order.correlation_id, Usage())) for run in mine]
            decided = [f.local_ms for f in figures if f.local_ms is not None]
            undone = [[t for t in run.timeline if t in UNDOING] for run in mine]
            example = max(undone, key=len)
            rows.append(
                {
                    "fault": fault,
                    "path": path,
                    "orders": len(mine),
                    "answers": _tally(str(run.order.status) for run in mine),
                    "final": _tally(run.order.final_status or "?" for run in mine),
                    "decision_p50": percentile(decided, 50),
                    "decision_max": max(decided, default=float("nan")),
                    "undo_steps": statistics.mean(len(u) for u in undone),
                    "undo": ", ".join(example) or "none",
                    "shipped": sum("ShipmentScheduled" in run.timeline for run in mine),
                    "invocations": statistics.mean(
                        usage.get(run.order.correlation_id, Usage())["lambda_invocations"] for run in mine
                    ),
                }
            )
    return rows


# -- complexity from the template and the code ---------------------------------------------------

# What each path needs to decide an order, by construct path in the template and by source file; the
# rest (the orders API and tables, the bus, the timeline, shipping, notifications, the inventory and
# payments logic) serves both. payments-tasks serves both: the saga's ChargePayment and the workflow's.
PATH_PARTS: dict[str, dict[str, tuple[str, ...]]] = {
    "orchestrated": {
        "constructs": ("OrderSaga/", "Orders/Tasks/", "Inventory/Tasks/", "Payments/Tasks/"),
        "code": (
            "cdk/saga.py",
            "functions/orders/handlers/saga_tasks.py",
            "functions/inventory/handlers/saga_tasks.py",
            "functions/payments/handlers/tasks.py",
        ),
    },
    "choreographed": {
        "constructs": (
            "Orders/Relay",
            "Orders/Projector/",
            "Orders/ProjectionEvents/",
            "Inventory/Consumer/",
            "Inventory/Events/",
            "Payments/Consumer/",
            "Payments/Events/",
            "Payments/Workflow",
            "Payments/Tasks/",
        ),
        "code": (
            "functions/orders/handlers/outbox_relay.py",
            "functions/orders/handlers/projector.py",
            "functions/inventory/handlers/consumer.py",
            "functions/payments/handlers/consumer.py",
            "functions/payments/handlers/tasks.py",
            "functions/payments/logic/workflow.py",
        ),
    },
}


def complexity(template: dict[str, Any]) -> dict[str, Any]:
    """Per path: the template's resources, functions, rules, queues (dead-letter ones included), state
    machines and states under its constructs, and the non-blank, non-comment lines of its files."""
    resources = template.get("Resources", {})
    rows = []
    for path, parts in PATH_PARTS.items():
        mine = [
            r
            for r in resources.values()
            if any(_cdk_name(r).startswith(f"Orderflow/{prefix}") for prefix in parts["constructs"])
        ]

        def count(kind: str, among: list[dict[str, Any]] = mine) -> int:
            return sum(1 for r in among if r.get("Type") == kind)

        states = sum(
            _count_states(_flatten(r.get("Properties", {}).get("DefinitionString")))
            for r in mine
            if r.get("Type") == "AWS::StepFunctions::StateMachine"
        )
        rows.append(
            {
                "path": path,
                "resources": len(mine),
                "functions": count("AWS::Lambda::Function"),
                "rules": count("AWS::Events::Rule"),
                "queues": count("AWS::SQS::Queue"),
                "machines": count("AWS::StepFunctions::StateMachine"),
                "states": states,
                "lines": sum(_code_lines(ROOT / name) for name in parts["code"]),
                "code": parts["code"],
            }
        )
    return {
        "rows": rows,
        "resources": len(resources),
        "function_lines": sum(_code_lines(f) for f in sorted((ROOT / "functions").rglob("*.py"))),
        "cdk_lines": sum(_code_lines(f) for f in sorted((ROOT / "cdk").rglob("*.py"))),
    }


def _cdk_name(resource: dict[str, Any]) -> str:
    return str(resource.get("Metadata", {}).get("aws:cdk:path", ""))


def _flatten(value: Any) -> str:
    """A DefinitionString (Fn::Join of strings and references) as text, references left out."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(_flatten(part) for part in value["Fn::Join"][1])
    if isinstance(value, list):
        return "".join(_flatten(part) for part in value)
    return ""


def _count_states(definition: str) -> int:
    """States in an ASL definition (nested ones included): every object with a "Type" among ASL's."""
    kinds = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
    return sum(definition.count(f'"Type":"{kind}"') for kind in kinds)


def _code_lines(path: Path) -> int:
    """Lines that are neither blank nor comments."""
    if not path.is_file():
        return 0
    return sum(1 for line in path.read_text().splitlines() if line.strip() and not line.strip().startswith("#"))


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
        return _with_calls(OrderFigures(order, usage, local_ms, hops, ["express_dynamodb_task"] * direct), meter)
    else:  # back from the decision: each step's cause is the order's invocation that ended last before it began
        path = [decision]
        while path[-1] is not api:
            current = path[-1]
            before = [i for i in mine if i.end <= current.start + 0.001 and i is not current and i not in path]
            path.append(max(before, key=lambda i: i.end) if before else api)
        path.reverse()
    return _with_calls(OrderFigures(order, usage, local_ms, [(hop_of(i, windows), i) for i in path]), meter)


def _with_calls(figure: OrderFigures, meter: Meter) -> OrderFigures:
    """Splits the path's handler time: what the steps waited for the local cloud's answers (replaced by
    modeled AWS calls) and the rest. A call still open at a step's cut is the wait for the next step,
    which the next hop models."""
    for step, cut in path_windows(figure):
        waited, calls = meter.calls_of(step, until=cut)
        figure.aws_wait_ms += waited
        figure.aws_calls += [call.service for call in calls]
    return figure


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


def path_windows(figure: OrderFigures) -> list[tuple[Invocation, float]]:
    """Each step of the critical path with the moment it stops counting: its end, or the next step's
    start when it waits for that step (the API for its saga)."""
    steps = [invocation for _, invocation in figure.critical]
    return [
        (step, step.end if following is None else min(step.end, following.start))
        for step, following in itertools.zip_longest(steps, steps[1:])
    ]


def handler_ms(figure: OrderFigures) -> float:
    """Handler time on the critical path: a step waiting for the next (the API for its saga) counts until it starts."""
    return sum(max(0.0, cut - step.start) * 1000 for step, cut in path_windows(figure))


def own_ms(figure: OrderFigures) -> float:
    """Handler time on the path less the time it waited for the local cloud's answers: our code (and the
    runtime's client side of each call) on this machine."""
    return max(0.0, handler_ms(figure) - figure.aws_wait_ms)


def call_hop(service: str, model: dict[str, Any]) -> str:
    """The latency entry of one AWS call from a function (`call:<service>`, else `call:other`)."""
    return f"call:{service}" if f"call:{service}" in model["latency_ms"] else "call:other"


def deployed_calls(services: list[str], model: dict[str, Any]) -> list[str]:
    """The calls a deployment makes too: not the fault document's reads (`calls_not_in_a_deployment`)."""
    dropped = set(model.get("calls_not_in_a_deployment", {}).get("services", ()))
    return [service for service in services if service not in dropped]


def modeled_latencies(figures: list[OrderFigures], model: dict[str, Any], seed: int) -> list[float]:
    """Per order and draw: the path's hops, its own handler time, and each AWS call it made, drawn from
    the model instead of moto's answer on this machine."""
    draw = sampler(model, random.Random(seed))
    samples = []
    for figure in figures:
        own = own_ms(figure)
        hops = [hop for hop, _ in figure.critical] + figure.service_hops
        hops += [call_hop(service, model) for service in deployed_calls(figure.aws_calls, model)]
        for _ in range(MONTE_CARLO_SAMPLES):
            samples.append(own + sum(draw(hop) for hop in hops))
    return samples


def floor_latencies(figures: list[OrderFigures], model: dict[str, Any], seed: int) -> list[float]:
    """As `modeled_latencies`, without the path's own handler time: what the hops and calls alone take."""
    draw = sampler(model, random.Random(seed))
    samples = []
    for figure in figures:
        hops = [hop for hop, _ in figure.critical] + figure.service_hops
        hops += [call_hop(service, model) for service in deployed_calls(figure.aws_calls, model)]
        samples += [sum(draw(hop) for hop in hops) for _ in range(MONTE_CARLO_SAMPLES)]
    return samples


def modeled_duration_ms(invocation: Invocation, meter: Meter, model: dict[str, Any]) -> float:
    """An invocation's billed duration on AWS as modeled: measured duration less the time it waited for
    the local cloud's answers, plus each completed call's modeled p50."""
    waited, calls = meter.calls_of(invocation)
    services = deployed_calls([call.service for call in calls], model)
    modeled = sum(model["latency_ms"][call_hop(service, model)]["p50"] for service in services)
    return max(1.0, invocation.duration_ms - waited + modeled)


def model_lambda_duration(meter: Meter, usage: dict[str, Usage], model: dict[str, Any]) -> None:
    """Replaces each order's Lambda GB-s (measured locally) by the modeled one, keeping the local one
    apart, and counts the KMS requests and SNS publishes its functions made (timed calls)."""
    for cid_usage in usage.values():
        cid_usage.counts["lambda_gb_seconds_local"] = cid_usage.counts.get("lambda_gb_seconds", 0.0)
        cid_usage.counts["lambda_gb_seconds"] = 0.0
    for invocation in meter.invocations:
        ms = math.ceil(modeled_duration_ms(invocation, meter, model))
        gb_s = invocation.memory_mb / 1024 * ms / 1000
        _, calls = meter.calls_of(invocation)
        kms = sum(1 for call in calls if call.service == "kms")
        sns = sum(1 for call in calls if call.service == "sns")
        targets = invocation.correlation_ids or [UNATTRIBUTED]
        for cid in targets:
            counts = usage.setdefault(cid, Usage()).counts
            counts["lambda_gb_seconds"] += gb_s / len(targets)
            counts["kms_requests"] += kms / len(targets)
            counts["sns_publishes"] += sns / len(targets)


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
        "KMS": usage.get("kms_requests", 0) * prices["kms_per_10k_requests"] / 1e4,
        "SNS": usage.get("sns_publishes", 0) * prices["sns_per_million_publishes"] / 1e6,
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
        f"{meta['machine']} (load average {meta.get('load', '?')}), Python {meta['python']}.",
        "Local figures are orderflow's code on moto on this machine;",
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
            "orders, orchestrated p50 to a decision ≤ 400 ms. The before figures' model counted neither KMS",
            "requests, SNS publishes nor index writes, and took Lambda's duration and the handler time from",
            "this machine, moto's answers included; the after figures count those and model these (see",
            '"How it is computed"). The goals are not met: docs/decisions.md (18) says why.',
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
        "path's hops, the path's own handler time measured here (its handler time less the time it",
        "waited for moto's answers) and one modeled AWS call per call the path made (see the last section).",
        "",
        "| path | outcome | local p50 ms | local p99 ms | AWS-modeled p50 ms | AWS-modeled p99 ms "
        "| handler ms on the path (p50) | of it, own code (p50) | AWS-modeled p50 without own code "
        "| AWS calls on the path (mean, by service) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['path']} | {row['outcome']} | {row['local_p50']:.0f} | {row['local_p99']:.0f} | "
            f"{row['aws_p50']:.0f} | {row['aws_p99']:.0f} | {row['handler_p50']:.0f} | {row['own_p50']:.0f} | "
            f"{row['floor_p50']:.0f} | {row['calls_mean']:.1f}: {row['calls_by_service']} |"
        )
    lines += [
        "",
        "Own code is the handler time on the path less the time the local cloud's server spent answering",
        "its calls: our code, botocore's side of each call (signing, HTTP to localhost, parsing), the",
        "local runtime's hand-over to its worker process and any wait for this machine's two cores. Only",
        "our code and botocore's side exist on Lambda, so it overstates; the column before the calls is",
        "the floor the hops and calls alone set, whatever the code's speed.",
    ]
    lines += ["", f"![Time to a decision, AWS-modeled, per path and outcome]({CHARTS['latency']})"]
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
    heading = lines.index("## Cost per million orders (us-east-1)")
    lines[heading] = "## Cost per million orders"
    lines[heading + 1 : heading + 1] = ["", f"![Cost per million orders by service, us-east-1]({CHARTS['cost']})"]
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
        "time on this machine, moto's answers included), the duration modeled for AWS (less moto's",
        "answers, plus each call's modeled p50), which the cost uses, and the memory and architecture the",
        "template gives it. These durations chose the memory (docs/decisions.md).",
        "",
        "| function | architecture | memory MB | invocations | p50 ms | p90 ms | p99 ms | AWS-modeled p50 ms "
        "| GB-s per 1,000 invocations (modeled) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fn in results["functions"]:
        lines.append(
            f"| {fn['name']} | {fn['arch']} | {fn['memory_mb']} | {fn['invocations']} | {fn['p50']:.0f} | "
            f"{fn['p90']:.0f} | {fn['p99']:.0f} | {fn['modeled_p50']:.0f} | {fn['gb_s_per_k']:.1f} |"
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
    lines += visibility_lines(rows) + reliability_lines(results.get("reliability", []))
    lines += complexity_lines(results["complexity"])
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
        "  the published p50, p90 and p99), plus the path's own handler time measured here, plus one draw",
        "  per AWS call the path completed (`call:<service>` below). The local cloud times every request a",
        "  function makes (the server side of each call, found by the invocation's trace header); that",
        "  wait is taken out of the handler time and each call is drawn from the model instead, so",
        "  DynamoDB, EventBridge, KMS or SQS time is counted once, at AWS's latency, not at moto's.",
        "  The own time left (our code, botocore's client side) is this machine's under this run's load:",
        "  a full core, where a 256 MB function gets about a sixth of a vCPU on Lambda (1,769 MB is one",
        "  vCPU) and a 512 MB one about a third. Compute-bound code would be slower there; orderflow's",
        "  handlers mostly wait for calls, which is what the split above measures.",
        "- **Cost** = mean counts per order x unit prices; Lambda GB-s from each invocation's modeled",
        "  duration (measured, less its wait for moto, plus its calls' modeled p50; the local GB-s are",
        "  kept as `lambda_gb_seconds_local`), Express at 64 MB per 100 ms of the local execution time,",
        "  SQS and EventBridge per 64 KB chunk.",
        "- The saga's direct DynamoDB task (ReadOrder) runs no function: it is a hop of its own on the",
        "  critical path (`express_dynamodb_task` below), with no handler time; its request units are",
        "  the order's (the interpreter's requests carry a trace header naming their execution).",
        "- Calls not made by a deployment are dropped from the model: the fault document's reads from",
        "  SSM (`calls_not_in_a_deployment` in the model file); their local wait is still taken out.",
        "- The simulated card processor is a DynamoDB ledger here, so its calls are modeled as DynamoDB",
        "  calls; a real processor answers in its own time (often hundreds of milliseconds), not modeled.",
        "- DynamoDB writes include each global secondary index's copy (one write unit per 1 KB of the",
        "  copy when it changes, two when its key moves), as DynamoDB bills them.",
        "- The simulated card processor's ledger (`SIM#` items in the payments table) stands in for the",
        "  processor's own systems: its request units are counted apart (`processor_wru`/`processor_rru`",
        "  in the meter) and not billed to orderflow.",
        "- Not counted: Step Functions' own logs (LoggingConfiguration), API Gateway's access logs, X-Ray",
        "  (traces are $5 per million recorded: at a trickle the default sampling rule's one trace a",
        "  second records nearly every order, about $5 per million orders; at hundreds of orders a second",
        "  its 5% about $0.25), CloudWatch metrics and alarms, data transfer, the free tier. KMS requests",
        "  and SNS publishes are counted as the functions' own calls, timed on the server; the KMS requests",
        "  AWS services make for encrypted queues, topics and tables are not.",
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


# -- charts -------------------------------------------------------------------------------------


def draw_charts(results: dict[str, Any], directory: Path) -> list[Path]:
    """The cost per path by service (stacked bars, us-east-1) and the AWS-modeled time to a decision per
    path and outcome (box plots of the Monte Carlo draws), as PNG files in `directory`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "svg.hashsalt": "orderflow"})
    written = []
    labels = [f"{row['path']}\n{row['outcome']}" for row in results["rows"]]
    costs = results["costs"]["us-east-1"]
    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=100)
    bottom = [0.0] * len(costs)
    for service in SERVICES:
        heights = [row["services"][service] for row in costs]
        axes.bar(labels, heights, bottom=bottom, label=service)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    for x, total in enumerate(bottom):
        axes.text(x, total + 0.5, f"${total:.2f}", ha="center")
    axes.axhline(20, color="black", linestyle="--", linewidth=0.8)
    axes.axhline(25, color="grey", linestyle=":", linewidth=0.8)
    axes.set_ylabel("$ per million orders (us-east-1, modeled)")
    axes.set_title("Cost per million orders by service (goals: \\$20 orchestrated, \\$25 choreographed)")
    axes.legend(fontsize=8, ncols=4, loc="upper left")
    axes.set_ylim(0, max(bottom) * 1.3)
    figure.tight_layout()
    written.append(directory / CHARTS["cost"])
    figure.savefig(written[-1], metadata={"Software": None})
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=100)
    axes.boxplot(
        [row["aws_samples"] or [0.0] for row in results["rows"]],
        tick_labels=labels,
        whis=(1, 99),
        showfliers=False,
    )
    axes.axhline(400, color="black", linestyle="--", linewidth=0.8)
    axes.set_ylabel("ms, API request to decision (AWS-modeled)")
    axes.set_title("Time to a decision: box p25-p75, median, whiskers p1-p99 (goal: orchestrated p50 400 ms)")
    figure.tight_layout()
    written.append(directory / CHARTS["latency"])
    figure.savefig(written[-1], metadata={"Software": None})
    plt.close(figure)
    return written


def visibility_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "## Visibility",
        "",
        "What an operator reads to explain one order. Both paths: the order (`GET /orders/{id}`: status,",
        "reason, deadline) and its timeline (`GET /orders/{id}/timeline`: every event any service",
        "published about it, oldest first, with its source and correlation id). Then the logs of each",
        "function that handled it (one log group each; every line carries the correlation id) and, for",
        "a workflow, its own log group: both workflows are Express, which keep no execution history in",
        "Step Functions (decision 15), so a saga's states, inputs and errors are read from its log",
        "group, where a Standard execution's history would show them in the console.",
        "",
        "| path | outcome | places to read (mean) | the order | its timeline | function log groups "
        "| workflow log groups | events on the timeline |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        places = 2 + row["function_logs"] + row["machine_logs"]
        lines.append(
            f"| {row['path']} | {row['outcome']} | {places:.1f} | 1 | 1 | {row['function_logs']:.1f} | "
            f"{row['machine_logs']:.1f} | {row['usage'].get('putevents_entries', 0):.1f} |"
        )
    lines += [
        "",
        "Counted by the meter per order: the functions that handled it (the consumers after the",
        "decision included) and the workflows that ran for it.",
        "",
        "| path | what the timeline shows | what the workflow's log shows |",
        "|---|---|---|",
        "| orchestrated | the same events as a choreographed order's (every service announces its"
        " outcomes whichever path placed the order): what each step did, once it did it; not the saga's"
        " order of steps, its retries, timeouts or a step that failed without an outcome"
        " | every step of the saga (ReadOrder, ReserveInventory, ChargePayment, ConfirmOrder or the"
        " compensation) with its input, output, retries and errors |",
        "| choreographed | every step, since the events are the steps: OrderPlaced, InventoryReserved or"
        " InventoryRejected, PaymentCompleted or PaymentFailed, the outcome, the release, the shipment;"
        " a message being retried or parked shows only as a missing next event (its queue and"
        " dead-letter queue say why) | the payment workflow only (ChargePayment, its retries and its"
        " failure path) |",
    ]
    return lines


def reliability_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "## Reliability",
        "",
        f"Measured: {rows[0]['orders'] if rows else FAULT_ORDERS} orders per path that would be confirmed"
        " (stock, `tok_visa`), placed while a",
        "fault document of `shared/faults.py` holds on the local cloud, read once nothing moves any more;",
        "then the fault is switched off. Payment outage: `payments.authorize` down (the card processor:",
        "every authorization raises ServiceOutage; the rest of payments works, so it can compensate).",
        "Shipping outage: `shipping.*` down, after the decision; its messages are retried, then parked",
        "in the dead-letter queue for `make redrive` (failed messages come back after 0.2 s here, not",
        'after the visibility timeout). Time to a decision as in "Time to a decision" (local, this',
        "machine; the workflows' retries wait as the template says). Compensation: the timeline's events",
        f"that refuse or undo an earlier step ({', '.join(UNDOING)}).",
        "",
    ]
    if not rows:
        return [*lines, "Not measured in this run (the template has no FaultInjection parameter)."]
    lines += [
        "| fault | path | orders | HTTP answers | final status | to a decision p50 ms | max ms "
        "| compensation steps (mean) | compensation, as the timeline records it | shipped | invocations per order |",
        "|---|---|---:|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['fault']} | {row['path']} | {row['orders']} | {row['answers']} | {row['final']} | "
            f"{row['decision_p50']:.0f} | {row['decision_max']:.0f} | {row['undo_steps']:.1f} | {row['undo']} | "
            f"{row['shipped']}/{row['orders']} | {row['invocations']:.1f} |"
        )
    return lines


def complexity_lines(figures: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Complexity",
        "",
        "What each path adds to what both share, read from the synthesized template (resources under",
        "the path's constructs, IAM roles and policies and event source mappings included; queues",
        "include their dead-letter queues; states counted in the definitions) and from its files",
        "(lines that are neither blank nor comments). payments-tasks serves both paths.",
        "",
        "| path | resources | functions | rules | queues | state machines | states | lines of code | files |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in figures["rows"]:
        files = ", ".join(f"`{name}`" for name in row["code"])
        lines.append(
            f"| {row['path']} | {row['resources']} | {row['functions']} | {row['rules']} | {row['queues']} | "
            f"{row['machines']} | {row['states']} | {row['lines']} | {files} |"
        )
    lines += [
        "",
        f"The whole stack: {figures['resources']} resources; {figures['function_lines']} lines in functions/,"
        f" {figures['cdk_lines']} in cdk/.",
    ]
    return lines


# -- main ---------------------------------------------------------------------------------------


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


def _tally(values: Any) -> str:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return ", ".join(f"{key}×{count}" for key, count in sorted(counts.items()))


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
    parser = argparse.ArgumentParser(prog="python -m local.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=30, help="orders per path and outcome (default 30)")
    parser.add_argument("--seed", type=int, default=2026, help="workload and Monte Carlo seed (default 2026)")
    parser.add_argument("--clients", type=int, default=2, help="parallel clients (default 2)")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the document")
    parser.add_argument("--assembly", type=Path, help="an assembly synthesized already (default: synthesize now)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    raise SystemExit(main())
