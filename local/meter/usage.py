"""Aggregation: the meter's records summed per correlation id, a record with several ids split
evenly among them, and what names no order counted under `UNATTRIBUTED`."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

from local.meter.records import UNATTRIBUTED, ApiRequest, Execution, Invocation, Usage

Counter = tuple[str, float, tuple[str, ...], str | None]  # (name, amount, correlation ids, trace root)


def usage_of(
    api: Iterable[ApiRequest],
    invocations: Iterable[Invocation],
    executions: Iterable[Execution],
    counters: Iterable[Counter],
    owners: dict[str, list[str]],
) -> dict[str, Usage]:
    """Counts per correlation id ('-' for what belongs to no order); `owners` resolves a counter's
    trace root to the correlation ids of the invocation or execution it belongs to."""
    by_cid: dict[str, Usage] = defaultdict(Usage)

    def spread(cids: Iterable[str], name: str, amount: float) -> None:
        targets = list(cids) or [UNATTRIBUTED]
        for cid in targets:
            by_cid[cid].add(name, amount / len(targets))

    for request in api:
        spread([request.correlation_id], "api_requests", 1)
    for invocation in invocations:
        spread(invocation.correlation_ids, "lambda_invocations", 1)
        spread(invocation.correlation_ids, f"lambda_invocations:{invocation.function}", 1)
        spread(invocation.correlation_ids, "lambda_gb_seconds", invocation.gb_seconds)
        spread(invocation.correlation_ids, "lambda_ms", invocation.duration_ms)
        spread(invocation.correlation_ids, "log_bytes", invocation.log_bytes)
    for execution in executions:
        if execution.type == "EXPRESS":
            seconds = execution.end - execution.start
            spread(execution.correlation_ids, "express_executions", 1)
            spread(execution.correlation_ids, "express_ms", seconds * 1000)
            # Billed per 100 ms at 64 MB (the minimum step) for these small payloads.
            spread(execution.correlation_ids, "express_gb_seconds", 0.0625 * math.ceil(seconds * 10) / 10)
        else:
            spread(execution.correlation_ids, "standard_executions", 1)
            spread(execution.correlation_ids, "standard_transitions", execution.transitions)
    for name, amount, cids, trace in counters:
        spread(cids or (owners.get(trace, []) if trace else []), name, amount)
    return dict(by_cid)
