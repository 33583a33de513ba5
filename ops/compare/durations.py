"""An invocation's duration as modeled for AWS (what Lambda bills, and the own time on a critical
path): the local wait for moto's answers taken out, each call drawn from the model instead, the
function's own time stretched to its CPU share on Lambda."""

from __future__ import annotations

import json
import math
from typing import Any

from local.meter import UNATTRIBUTED, AwsCall, Invocation, Meter, Usage
from ops.compare.constants import MODEL

# Lambda's CPU share: one vCPU at this much memory, in proportion below it (the model file's value).
FULL_VCPU_MB: float = json.loads(MODEL.read_text())["billing_rules"]["lambda_full_vcpu_mb"]


def lambda_own_ms(invocation: Invocation, own_wall_ms: float) -> float:
    """A function's own time (its time less its waits for AWS) as modeled on Lambda: at most the CPU its
    process used here (a busy machine's waits for a core are not the code's), on a full core here and
    a `memory / FULL_VCPU_MB` share of one on Lambda, which stretches it by the inverse below 1,769 MB."""
    own = own_wall_ms if invocation.cpu_ms is None else min(own_wall_ms, invocation.cpu_ms)
    return own * max(1.0, FULL_VCPU_MB / invocation.memory_mb)


def call_hop(service: str, model: dict[str, Any]) -> str:
    """The latency entry of one AWS call from a function (`call:<service>`, else `call:other`)."""
    return f"call:{service}" if f"call:{service}" in model["latency_ms"] else "call:other"


def deployed_calls(services: list[str], model: dict[str, Any]) -> list[str]:
    """The calls a deployment makes too: not the fault document's reads (`calls_not_in_a_deployment`)."""
    dropped = set(model.get("calls_not_in_a_deployment", {}).get("services", ()))
    return [service for service in services if service not in dropped]


SYNC_START = "StartSyncExecution"


def modeled_duration_ms(invocation: Invocation, meter: Meter, model: dict[str, Any]) -> float:
    """An invocation's billed duration on AWS as modeled: measured duration less the time it waited for
    the local cloud's answers (its own time, at its CPU share on Lambda: `lambda_own_ms`), plus each
    completed call's modeled p50. A StartSyncExecution waits for
    the whole Express execution, so the function is billed for it: its call is modeled as the
    execution (`sync_execution_ms`), not as one request."""
    waited, calls = meter.calls_of(invocation)
    services = deployed_calls([call.service for call in calls], model)
    modeled = sum(model["latency_ms"][call_hop(service, model)]["p50"] for service in services)
    for call in calls:
        if call.service == "states" and call.operation == SYNC_START:
            modeled += sync_execution_ms(invocation, call, meter, model)
    own = lambda_own_ms(invocation, max(0.0, invocation.duration_ms - waited))
    return max(1.0, own + modeled)


def sync_execution_ms(invocation: Invocation, call: AwsCall, meter: Meter, model: dict[str, Any]) -> float:
    """What a synchronous Express execution started by `call` is modeled to take: its Lambda tasks'
    modeled durations, one Express task hop (p50) for each, and one direct DynamoDB task hop for
    each of its service-integration steps."""
    cids = set(invocation.correlation_ids)
    tasks = [
        other
        for other in meter.invocations
        if other is not invocation
        and other.trigger == "invoke"
        and cids & set(other.correlation_ids)
        and call.start <= other.start
        and other.end <= call.end
    ]
    direct = sum(
        execution.dynamodb_tasks
        for execution in meter.executions
        if execution.type == "EXPRESS"
        and cids & set(execution.correlation_ids)
        and call.start - 0.05 <= execution.start
        and execution.end <= call.end + 0.05
    )
    hops = model["latency_ms"]
    return (
        sum(modeled_duration_ms(task, meter, model) for task in tasks)
        + len(tasks) * hops["express_sync_task"]["p50"]
        + direct * hops["express_dynamodb_task"]["p50"]
    )


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
