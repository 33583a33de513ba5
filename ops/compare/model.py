"""From the meter's counts to AWS: modeled latency (hops + calls + handler time) and cost per million orders."""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections import defaultdict
from typing import Any

from local.meter import Invocation, Meter, Usage
from ops.compare.constants import FAULTS, MONTE_CARLO_SAMPLES, PATHS, UNDOING
from ops.compare.durations import call_hop, deployed_calls, lambda_own_ms
from ops.compare.workload import FaultRun, Order, OrderFigures


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
        figure.lambda_own_ms += lambda_own_ms(step, max(0.0, (cut - step.start) * 1000 - waited))
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


def modeled_latencies(figures: list[OrderFigures], model: dict[str, Any], seed: int) -> list[float]:
    """Per order and draw: the path's hops, its own handler time, and each AWS call it made, drawn from
    the model instead of moto's answer on this machine."""
    draw = sampler(model, random.Random(seed))
    samples = []
    for figure in figures:
        own = figure.lambda_own_ms
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


def _tally(values: Any) -> str:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return ", ".join(f"{key}×{count}" for key, count in sorted(counts.items()))
