"""Attribution: the correlation ids a payload or a log line names, what triggered an invocation, the
trace root a request carries, and the trace roots of the state machine executions that run."""

from __future__ import annotations

import contextlib
import json
import math
import re
import threading
from typing import Any

from local.meter.records import CHUNK_64KB
from local.meter.registry import METERS_LOCK

_CORRELATION_KEYS = ("correlation_id", "correlationId", "CorrelationId")
CID_IN_TEXT = re.compile(r'"correlation_?[iI]d"\s*:\s*"([A-Za-z0-9._:-]{1,128})"')
_execution = threading.local()  # .trace: the trace root of the execution this interpreter thread runs
EXECUTION_TRACES: dict[str, list[str]] = {}  # trace root -> the execution input's correlation ids


def correlation_ids(payload: Any) -> list[str]:
    """The correlation ids a payload (JSON text or parsed) names, in order of appearance."""
    if payload is None:
        return []
    text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    found: list[str] = []
    for match in CID_IN_TEXT.finditer(text.replace('\\"', '"')):
        if match.group(1) not in found:
            found.append(match.group(1))
    return found


def item_correlation_ids(item: Any) -> list[str]:
    """The correlation id a DynamoDB-typed item carries as a top-level string attribute, if any."""
    if not isinstance(item, dict):
        return []
    for name in _CORRELATION_KEYS:
        value = item.get(name)
        if isinstance(value, dict) and isinstance(value.get("S"), str) and value["S"]:
            return [value["S"]]
    return []


def trigger_of(event: Any, spec: Any = None) -> str:
    if isinstance(event, dict):
        if "httpMethod" in event and "requestContext" in event:
            return "api"
        records = event.get("Records")
        if isinstance(records, list) and records and isinstance(records[0], dict):
            source = records[0].get("eventSource")
            if source == "aws:sqs":
                return "sqs-fifo" if str(records[0].get("eventSourceARN", "")).endswith(".fifo") else "sqs"
            if source == "aws:dynamodb":
                return "stream"
        if "detail-type" in event and "source" in event:
            return "eventbridge"
    return "invoke"


def trace_root(header: str | None) -> str | None:
    if not header:
        return None
    for part in str(header).split(";"):
        if part.strip().startswith("Root="):
            return part.strip()[5:]
    return None


def chunks(size: int) -> int:
    return max(1, math.ceil(size / CHUNK_64KB))


@contextlib.contextmanager
def execution_trace(execution: Any) -> Any:
    """While the interpreter runs `execution` in this thread, its service integrations' requests
    carry a trace root that resolves to the execution's correlation ids (see `add_execution_trace`)."""
    cids = correlation_ids(getattr(execution, "input_data", None))
    root = f"1-{id(execution):08x}-sfn{threading.get_ident():x}"[:35]
    with METERS_LOCK:
        if len(EXECUTION_TRACES) > 100_000:
            EXECUTION_TRACES.clear()
        EXECUTION_TRACES[root] = cids
    _execution.trace = root
    try:
        yield
    finally:
        _execution.trace = None


def add_execution_trace(request: Any, **_: Any) -> None:
    """botocore `before-send` hook for the interpreter's clients: name the running execution."""
    root = getattr(_execution, "trace", None)
    if root and hasattr(request, "headers") and "X-Amzn-Trace-Id" not in request.headers:
        request.headers["X-Amzn-Trace-Id"] = f"Root={root}"
