"""A meter for the local cloud: what each order would be billed for, counted as the calls happen.

`LocalCloud(..., metered=True)` records, per correlation id and in total:

- API requests (the local REST API, with the `X-Correlation-Id` header the caller sent);
- Lambda invocations per function with their measured duration and the template's MemorySize
  (GB-s), what triggered them (API, SQS, DynamoDB stream, EventBridge, Invoke) and the log bytes
  they wrote (handler lines plus the START/END/REPORT lines Lambda adds);
- Step Functions executions: Express duration, Standard state transitions (from the history);
- EventBridge PutEvents entries (64 KB chunks) and rule deliveries;
- SQS requests: send, receive (empty receives apart: they belong to no order), delete and
  change-visibility, each a request per 64 KB chunk, batches one request;
- DynamoDB request units from item sizes as DynamoDB bills them: writes per 1 KB of the larger of
  the item before and after (transactional x2), plus the writes each global secondary index's copy
  takes (none when the copy is unchanged, two when its key changes), reads per 4 KB (strongly consistent 1, eventually
  0.5, transactional 2), in all and per table (`dynamodb_wru:<table>`); the simulated card
  processor's own ledger (`SIM#` items) is counted apart as `processor_wru`/`processor_rru`: it
  stands in for the processor's systems, which orderflow does not pay for. moto's
  ReturnConsumedCapacity is a constant, so it is not used.

Attribution: invocations carry the correlation ids their log lines name (Powertools binds it on
every line); events, messages and execution inputs carry it in their payload; an AWS call a
function makes carries the invocation's X-Ray trace header (botocore adds `X-Amzn-Trace-Id` from
`_X_AMZN_TRACE_ID` inside Lambda), which resolves to that invocation's correlation ids; a state
machine's own service integrations (a DynamoDB or SQS task) carry a trace header naming their
execution (`execution_trace`), which resolves to the execution input's correlation ids. A record
with several ids (a batch of several orders) is split evenly among them.

AWS calls: every request to the local cloud's server that carries a trace header is timed there
(`Meter.aws_calls`: service, start, end, per trace root), so that an invocation's measured duration
can be split into its own time and the time moto took to answer it (`Meter.calls_of`).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import math
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from local import patches

CHUNK_64KB = 64 * 1024
UNATTRIBUTED = "-"
_CORRELATION_KEYS = ("correlation_id", "correlationId", "CorrelationId")
_CID_IN_TEXT = re.compile(r'"correlation_?[iI]d"\s*:\s*"([A-Za-z0-9._:-]{1,128})"')
_METERS: list[Meter] = []
_METERS_LOCK = threading.Lock()
_installed: list[bool] = []  # [True] once installed
_install_lock = threading.Lock()
_batch = threading.local()  # inside a batch call: its per-entry calls are not requests of their own
_execution = threading.local()  # .trace: the trace root of the execution this interpreter thread runs
_EXECUTION_TRACES: dict[str, list[str]] = {}  # trace root -> the execution input's correlation ids


@dataclass
class Invocation:
    function: str
    request_id: str
    trace_root: str
    trigger: str  # api | sqs | sqs-fifo | stream | eventbridge | invoke
    start: float
    end: float
    duration_ms: float
    memory_mb: int
    errored: bool
    correlation_ids: list[str]
    decisions: list[str]  # correlation ids whose decision (TimeToDecision) this invocation wrote
    log_bytes: int

    @property
    def gb_seconds(self) -> float:
        return self.memory_mb / 1024 * math.ceil(self.duration_ms) / 1000


@dataclass
class Execution:
    state_machine: str
    type: str  # EXPRESS | STANDARD
    start: float
    end: float
    transitions: int
    correlation_ids: list[str]
    dynamodb_tasks: int = 0  # tasks that called DynamoDB directly (a service integration, no function)


@dataclass
class AwsCall:
    """One request a function (or a state machine's own integration) made to the local cloud's server."""

    service: str  # the SigV4 signing name: dynamodb, events, sqs, kms, ssm, states, sns, ...
    start: float
    end: float

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


@dataclass
class ApiRequest:
    method: str
    path: str
    status: int
    start: float
    end: float
    correlation_id: str


@dataclass
class Usage:
    """One order's (or everything's) counts; fractional where a record was split among orders."""

    counts: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, name: str, amount: float) -> None:
        self.counts[name] += amount

    def __getitem__(self, name: str) -> float:
        return self.counts.get(name, 0.0)


class Meter:
    """The records of one local cloud; `usage(cid)` sums them per order."""

    def __init__(self, system_log_levels: dict[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        # function logical id -> its LoggingConfig.SystemLogLevel: above INFO, Lambda writes no
        # START/END/REPORT lines for it (`read_log_levels` reads them)
        self.system_log_levels = dict(system_log_levels or {})
        self.reset()

    def platform_log_bytes(self, spec: Any) -> int:
        """The START, END and REPORT lines Lambda adds to an invocation's log (about 280 bytes in
        all), unless the function's system log level is above INFO."""
        level = self.system_log_levels.get(str(getattr(spec, "logical_id", "")), "INFO")
        return 0 if level.upper() in ("WARN", "ERROR", "FATAL") else 60 + 50 + 170

    def read_log_levels(self, template: dict[str, Any]) -> None:
        """Takes each function's system log level from the template (LoggingConfig.SystemLogLevel)."""
        for logical_id, resource in (template.get("Resources") or {}).items():
            if resource.get("Type") == "AWS::Lambda::Function":
                config = (resource.get("Properties") or {}).get("LoggingConfig") or {}
                if config.get("SystemLogLevel"):
                    self.system_log_levels[logical_id] = str(config["SystemLogLevel"])

    def reset(self) -> None:
        """Forgets every record (say, after a warm-up)."""
        self.invocations: list[Invocation] = []
        self.executions: list[Execution] = []
        self.api_requests: list[ApiRequest] = []
        # (counter name, amount, correlation ids or None, trace root or None)
        self.counters: list[tuple[str, float, tuple[str, ...], str | None]] = []
        self._receipts: dict[str, tuple[str, ...]] = {}
        self.aws_calls: dict[str, list[AwsCall]] = defaultdict(list)  # trace root -> its requests

    # -- recording ---------------------------------------------------------------------------

    def count(self, name: str, amount: float, cids: Iterable[str] = (), trace: str | None = None) -> None:
        with self._lock:
            self.counters.append((name, amount, tuple(cids), trace))

    def lambda_invocation(self, spec: Any, event: Any, result: Any) -> None:
        end = time.monotonic()
        cids: list[str] = []
        decisions: list[str] = []
        current: str | None = None
        log_bytes = 0
        for line in result.logs:
            log_bytes += len(line.encode("utf-8")) + 1
            match = _CID_IN_TEXT.search(line)
            if match:
                current = match.group(1)
                if current not in cids:
                    cids.append(current)
            if '"TimeToDecision"' in line and current is not None and current not in decisions:
                decisions.append(current)
        if not cids:
            cids = correlation_ids(event)
        log_bytes += self.platform_log_bytes(spec)
        invocation = Invocation(
            function=spec.name,
            request_id=result.request_id,
            trace_root=_trace_root(getattr(result, "trace", "")) or "",
            trigger=trigger_of(event, spec),
            start=end - (getattr(result, "handler_ms", 0.0) or result.duration_ms) / 1000,
            end=end,
            duration_ms=getattr(result, "handler_ms", 0.0) or result.duration_ms,
            memory_mb=int(spec.memory_size),
            errored=bool(result.errored),
            correlation_ids=cids,
            decisions=decisions,
            log_bytes=log_bytes,
        )
        with self._lock:
            self.invocations.append(invocation)

    def api_request(self, method: str, path: str, headers: list[tuple[str, str]], handle: Callable[[], Any]) -> Any:
        start = time.monotonic()
        response = handle()
        cid = next((value for key, value in headers if key.lower() == "x-correlation-id"), "") or UNATTRIBUTED
        request = ApiRequest(method, path, int(getattr(response, "status", 0)), start, time.monotonic(), cid)
        with self._lock:
            self.api_requests.append(request)
        return response

    def execution(self, execution: Any) -> None:
        machine = getattr(execution, "state_machine", None)
        declared = getattr(machine, "type", None) or getattr(execution, "sm_type", None) or ""
        sm_type = "EXPRESS" if "EXPRESS" in str(getattr(declared, "value", declared)).upper() else "STANDARD"
        start = getattr(execution, "start_date", None)
        stop = getattr(execution, "stop_date", None)
        seconds = (stop - start).total_seconds() if start is not None and stop is not None else 0.0
        end = time.monotonic()
        try:
            history = execution.to_history_output().get("events", [])
        except Exception:
            history = []
        entered = sum(1 for event in history if str(event.get("type", "")).endswith("StateEntered"))
        scheduled = sum(1 for event in history if str(event.get("type", "")).endswith("Scheduled"))
        task_states = sum(1 for event in history if str(event.get("type", "")) == "TaskStateEntered")
        retries = max(0, scheduled - task_states)
        dynamodb_tasks = sum(
            1
            for event in history
            if str(event.get("type", "")) == "TaskScheduled"
            and str((event.get("taskScheduledEventDetails") or {}).get("resourceType", "")) == "dynamodb"
        )
        record = Execution(
            state_machine=str(getattr(getattr(execution, "state_machine", None), "name", "")),
            type=sm_type,
            start=end - seconds,
            end=end,
            transitions=entered + retries,
            correlation_ids=correlation_ids(getattr(execution, "input_data", None)),
            dynamodb_tasks=dynamodb_tasks,
        )
        with self._lock:
            self.executions.append(record)

    def aws_call(self, trace_root: str, call: AwsCall) -> None:
        with self._lock:
            self.aws_calls[trace_root].append(call)

    def calls_of(self, invocation: Invocation, until: float | None = None) -> tuple[float, list[AwsCall]]:
        """The local time `invocation` spent waiting for the server up to `until` (default its end), and
        the calls that completed by then (a call still running at `until` is the wait for what follows)."""
        cut = invocation.end if until is None else until
        with self._lock:
            calls = list(self.aws_calls.get(invocation.trace_root, ()))
        waited = sum(max(0.0, min(c.end, cut) - max(c.start, invocation.start)) for c in calls) * 1000
        return waited, [c for c in calls if c.end <= cut]

    def remember_receipts(self, messages: Iterable[Any]) -> list[str]:
        cids: list[str] = []
        with self._lock:
            for message in messages:
                found = tuple(correlation_ids(getattr(message, "body", "")))
                cids += found
                handle = getattr(message, "receipt_handle", None)
                if handle:
                    self._receipts[handle] = found
        return cids

    def receipt_cids(self, handles: Iterable[str]) -> list[str]:
        with self._lock:
            return [cid for handle in handles for cid in self._receipts.get(handle, ())]

    # -- reading -----------------------------------------------------------------------------

    def trace_owners(self) -> dict[str, list[str]]:
        with _METERS_LOCK:
            owners = dict(_EXECUTION_TRACES)
        with self._lock:
            return owners | {i.trace_root: i.correlation_ids for i in self.invocations if i.trace_root}

    def usage(self) -> dict[str, Usage]:
        """Counts per correlation id ('-' for what belongs to no order)."""
        by_cid: dict[str, Usage] = defaultdict(Usage)
        owners = self.trace_owners()

        def spread(cids: Iterable[str], name: str, amount: float) -> None:
            targets = list(cids) or [UNATTRIBUTED]
            for cid in targets:
                by_cid[cid].add(name, amount / len(targets))

        with self._lock:
            api = list(self.api_requests)
            invocations = list(self.invocations)
            executions = list(self.executions)
            counters = list(self.counters)
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


def correlation_ids(payload: Any) -> list[str]:
    """The correlation ids a payload (JSON text or parsed) names, in order of appearance."""
    if payload is None:
        return []
    text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    found: list[str] = []
    for match in _CID_IN_TEXT.finditer(text.replace('\\"', '"')):
        if match.group(1) not in found:
            found.append(match.group(1))
    return found


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


def _trace_root(header: str | None) -> str | None:
    if not header:
        return None
    for part in str(header).split(";"):
        if part.strip().startswith("Root="):
            return part.strip()[5:]
    return None


def chunks(size: int) -> int:
    return max(1, math.ceil(size / CHUNK_64KB))


# -- registration ---------------------------------------------------------------------------------


def register(meter: Meter) -> None:
    install()
    with _METERS_LOCK:
        _METERS.append(meter)


def unregister(meter: Meter) -> None:
    with _METERS_LOCK, contextlib.suppress(ValueError):
        _METERS.remove(meter)


def _active() -> list[Meter]:
    """The meters to record a moto call into: only for requests to the local cloud's server."""
    if not _METERS or not patches.serving_local_request():
        return []
    with _METERS_LOCK:
        return list(_METERS)


def record_execution(execution: Any) -> None:
    """Called once an execution of the local cloud's interpreter has finished."""
    with _METERS_LOCK:
        meters = list(_METERS)
    for meter in meters:
        meter.execution(execution)


@contextlib.contextmanager
def execution_trace(execution: Any) -> Any:
    """While the interpreter runs `execution` in this thread, its service integrations' requests
    carry a trace root that resolves to the execution's correlation ids (see `add_execution_trace`)."""
    cids = correlation_ids(getattr(execution, "input_data", None))
    root = f"1-{id(execution):08x}-sfn{threading.get_ident():x}"[:35]
    with _METERS_LOCK:
        if len(_EXECUTION_TRACES) > 100_000:
            _EXECUTION_TRACES.clear()
        _EXECUTION_TRACES[root] = cids
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


def install() -> None:
    """Wraps moto's SQS, EventBridge and DynamoDB so that their requests are counted (once)."""
    with _install_lock:
        if _installed:
            return
        patches.install()
        _install_sqs()
        _install_events()
        _install_dynamodb()
        _install_call_timer()
        _installed.append(True)


_SIGNING_SERVICE = re.compile(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request")


def _install_call_timer() -> None:
    """Times every traced request to the server (see `AwsCall`); untraced ones belong to no function."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    application: Any = DomainDispatcherApplication
    original_call = application.__call__

    @functools.wraps(original_call)
    def __call__(self: Any, environ: Any, start_response: Any) -> Any:
        root = _trace_root(environ.get("HTTP_X_AMZN_TRACE_ID")) if _METERS else None
        if not root:
            return original_call(self, environ, start_response)
        start = time.monotonic()
        try:
            return original_call(self, environ, start_response)
        finally:
            match = _SIGNING_SERVICE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
            call = AwsCall(match.group(1) if match else "?", start, time.monotonic())
            with _METERS_LOCK:
                meters = list(_METERS)
            for meter in meters:
                meter.aws_call(root, call)

    application.__call__ = __call__


def _count_all(name: str, amount: float, cids: Iterable[str] = (), trace: str | None = None) -> None:
    cids = list(cids)
    for meter in _active():
        meter.count(name, amount, cids, trace)


def _install_sqs() -> None:
    from moto.sqs.models import SQSBackend

    backend: Any = SQSBackend
    original_send = backend.send_message
    original_send_batch = backend.send_message_batch
    original_receive = backend.receive_message
    original_delete = backend.delete_message
    original_delete_batch = backend.delete_message_batch
    original_visibility = backend.change_message_visibility

    @functools.wraps(original_send)
    def send_message(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        if not getattr(_batch, "active", False):
            _count_all("sqs_send", chunks(len(str(message_body).encode())), correlation_ids(message_body))
        return original_send(self, queue_name, message_body, *args, **kwargs)

    @functools.wraps(original_send_batch)
    def send_message_batch(self: Any, queue_name: str, entries: Any, *args: Any, **kwargs: Any) -> Any:
        # moto passes the batch as {index: entry}
        listed = list(entries.values()) if isinstance(entries, dict) else list(entries or [])
        bodies = [str(entry.get("MessageBody", "")) for entry in listed]
        cids = [cid for body in bodies for cid in correlation_ids(body)]
        _count_all("sqs_send", chunks(sum(len(body.encode()) for body in bodies)), cids)
        _batch.active = True
        try:
            return original_send_batch(self, queue_name, entries, *args, **kwargs)
        finally:
            _batch.active = False

    @functools.wraps(original_receive)
    def receive_message(self: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        messages = original_receive(self, queue_name, *args, **kwargs)
        meters = _active()
        if not messages:
            for meter in meters:
                meter.count("sqs_empty_receives", 1)
        for meter in meters:
            cids = meter.remember_receipts(messages)
            if messages:
                size = sum(len(str(getattr(m, "body", "")).encode()) for m in messages)
                meter.count("sqs_receive", chunks(size), cids)
        return messages

    @functools.wraps(original_delete)
    def delete_message(self: Any, queue_name: str, receipt_handle: str) -> None:
        if not getattr(_batch, "active", False):
            for meter in _active():
                meter.count("sqs_delete", 1, meter.receipt_cids([receipt_handle]))
        original_delete(self, queue_name, receipt_handle)

    @functools.wraps(original_delete_batch)
    def delete_message_batch(self: Any, queue_name: str, receipts: Any) -> Any:
        listed = list(receipts.values()) if isinstance(receipts, dict) else list(receipts or [])
        handles = [str(entry.get("ReceiptHandle", "")) for entry in listed]
        for meter in _active():
            meter.count("sqs_delete", 1, meter.receipt_cids(handles))
        _batch.active = True
        try:
            return original_delete_batch(self, queue_name, receipts)
        finally:
            _batch.active = False

    @functools.wraps(original_visibility)
    def change_message_visibility(self: Any, queue_name: str, receipt_handle: str, *args: Any, **kwargs: Any) -> Any:
        for meter in _active():
            meter.count("sqs_change_visibility", 1, meter.receipt_cids([receipt_handle]))
        return original_visibility(self, queue_name, receipt_handle, *args, **kwargs)

    backend.send_message = send_message
    backend.send_message_batch = send_message_batch
    backend.receive_message = receive_message
    backend.delete_message = delete_message
    backend.delete_message_batch = delete_message_batch
    backend.change_message_visibility = change_message_visibility


def _install_events() -> None:
    from moto.events.models import EventsBackend, Rule

    from local.limits import put_events_size

    events_backend: Any = EventsBackend
    rule_class: Any = Rule
    original_put = events_backend.put_events
    original_send = rule_class.send_to_targets

    @functools.wraps(original_put)
    def put_events(self: Any, events: list[dict[str, Any]]) -> Any:
        for entry in events or []:
            size = put_events_size([entry])
            _count_all("putevents_entries", chunks(size), correlation_ids(entry.get("Detail")))
            _count_all("event_bytes", size, correlation_ids(entry.get("Detail")))
        return original_put(self, events)

    @functools.wraps(original_send)
    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> Any:
        meters = _active()
        if meters and getattr(self, "state", "ENABLED") != "DISABLED" and self.targets:
            try:
                matched = self.event_pattern.get_pattern() and self.event_pattern.matches_event(original_event)
            except Exception:
                matched = False
            if matched:
                cids = correlation_ids(original_event.get("detail"))
                for meter in meters:
                    meter.count("rule_deliveries", len(self.targets), cids)
        return original_send(self, original_event, transform_input)

    events_backend.put_events = put_events
    rule_class.send_to_targets = send_to_targets


# -- DynamoDB request units --------------------------------------------------------------------------


def attribute_size(value: Any) -> int:  # noqa: PLR0911 - one return per DynamoDB type
    """An attribute value's size (DynamoDB JSON) as DynamoDB counts it for capacity."""
    if not isinstance(value, dict) or not value:
        return 0
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        digits = str(inner).lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        try:
            return len(base64.b64decode(inner)) if isinstance(inner, str) else len(inner)
        except (ValueError, TypeError):
            return len(str(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: element}) for element in inner or [])
    if kind == "L":
        return 3 + sum(1 + attribute_size(element) for element in inner or [])
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + attribute_size(v) for k, v in (inner or {}).items())
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in item.items())


def write_units(size: int, transactional: bool = False) -> float:
    return max(1, math.ceil(size / 1024)) * (2 if transactional else 1)


def read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    if transactional:
        return units * 2.0
    return units * (1.0 if consistent else 0.5)


def _stored_item(backend: Any, table_name: Any, key: Any) -> dict[str, Any] | None:
    """The item stored under `key` now (DynamoDB JSON), or None."""
    if not isinstance(table_name, str) or not isinstance(key, dict):
        return None
    try:
        item = backend.get_item(table_name, key)
    except Exception:
        return None
    return dict(item.to_json()["Attributes"]) if item is not None else None


def index_write_units(
    backend: Any, table_name: Any, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> float:
    """The write units a change of one item costs in the table's global secondary indexes: nothing when
    the index's copy is unchanged, one write when it changes in place, a delete and a put when its
    key changes (or one of them when the item enters or leaves a sparse index), per 1 KB of the copy."""
    try:
        table = backend.get_table(table_name)
    except Exception:
        return 0.0
    units = 0.0
    for index in getattr(table, "global_indexes", None) or []:
        old, new = _projected(index, table, before), _projected(index, table, after)
        if old == new:
            continue
        keys = [part["AttributeName"] for part in index.schema]
        if old is not None and new is not None and all(old.get(k) == new.get(k) for k in keys):
            units += write_units(max(item_size(old), item_size(new)))
        else:
            units += sum(write_units(item_size(copy)) for copy in (old, new) if copy is not None)
    return units


def _projected(index: Any, table: Any, item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The copy of `item` an index holds (None when the item lacks one of the index's keys)."""
    keys = [part["AttributeName"] for part in index.schema]
    if not item or any(key not in item for key in keys):
        return None
    projection = getattr(index, "projection", None) or {}
    kind = projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return dict(item)
    names = set(keys) | {name for name in (table.hash_key_attr, table.range_key_attr) if name}
    if kind == "INCLUDE":
        names |= set(projection.get("NonKeyAttributes", []))
    return {name: value for name, value in item.items() if name in names}


def _key_of(backend: Any, table_name: Any, item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    try:
        table = backend.get_table(table_name)
    except Exception:
        return None
    names = [table.hash_key_attr, table.range_key_attr]
    return {name: item[name] for name in names if name and name in item}


def _body(result: Any) -> dict[str, Any]:
    value = getattr(result, "result", result)
    if isinstance(value, (str, bytes)):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    return value if isinstance(value, dict) else {}


Part = tuple[str, float, float]  # (what it is billed to: a table, or "processor"; read units, write units)


def _label(table: Any, key: Any) -> str:
    """The table a request unit belongs to, or `processor` for the simulated processor's ledger."""
    pk = key.get("pk") if isinstance(key, dict) else None
    if isinstance(pk, dict) and str(pk.get("S", "")).startswith("SIM#"):
        return "processor"
    return str(table or "?")


def _install_dynamodb() -> None:
    from moto.dynamodb.responses import DynamoHandler

    handler: Any = DynamoHandler

    def metered(method: Any, measure: Callable[[Any, dict[str, Any], Callable[[], Any]], list[Part]]) -> Any:
        @functools.wraps(method)
        def wrapper(self: Any) -> Any:
            if not _active():
                return method(self)
            body = self.body if isinstance(self.body, dict) else {}
            trace = _trace_root((self.headers or {}).get("X-Amzn-Trace-Id"))
            holder: dict[str, Any] = {}

            def call() -> Any:
                # A refused request (a failed condition, a cancelled transaction) is billed too.
                try:
                    holder["result"] = method(self)
                except Exception as error:
                    holder["error"] = error
                return holder.get("result")

            for label, rru, wru in measure(self.dynamodb_backend, body, call):
                prefix = "processor" if label == "processor" else "dynamodb"
                if rru:
                    _count_all(f"{prefix}_rru", rru, trace=trace)
                    _count_all(f"dynamodb_rru:{label}", rru, trace=trace)
                if wru:
                    _count_all(f"{prefix}_wru", wru, trace=trace)
                    _count_all(f"dynamodb_wru:{label}", wru, trace=trace)
            if "error" in holder:
                raise holder["error"]
            return holder["result"]

        return wrapper

    def single_write(key_field: str) -> Any:
        def measure(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
            table = body.get("TableName")
            key = body.get(key_field) if key_field == "Key" else _key_of(backend, table, body.get("Item"))
            old = _stored_item(backend, table, key)
            call()
            new = _stored_item(backend, table, key)
            size = max(item_size(old), item_size(new))
            if key_field == "Item":
                size = max(size, item_size(body.get("Item")))
            units = write_units(size) + index_write_units(backend, table, old, new)
            return [(_label(table, key), 0.0, units)]

        return measure

    def get(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
        result = call()
        size = item_size(_body(result).get("Item"))
        label = _label(body.get("TableName"), body.get("Key"))
        return [(label, read_units(size, bool(body.get("ConsistentRead"))), 0.0)]

    def query(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
        result = call()
        size = sum(item_size(item) for item in _body(result).get("Items", []) or [])
        return [(_label(body.get("TableName"), None), read_units(size, bool(body.get("ConsistentRead"))), 0.0)]

    def batch_get(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
        result = call()
        parts: list[Part] = []
        for table, items in (_body(result).get("Responses") or {}).items():
            consistent = bool((body.get("RequestItems") or {}).get(table, {}).get("ConsistentRead"))
            parts += [(_label(table, item), read_units(item_size(item), consistent), 0.0) for item in items]
        return parts

    def batch_write(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
        targets = []
        for table, requests in (body.get("RequestItems") or {}).items():
            for request in requests or []:
                if "PutRequest" in request:
                    item = request["PutRequest"].get("Item")
                    key = _key_of(backend, table, item)
                else:
                    item, key = None, request.get("DeleteRequest", {}).get("Key")
                targets.append((table, key, item, _stored_item(backend, table, key)))
        call()
        parts: list[Part] = []
        for table, key, item, old in targets:
            new = _stored_item(backend, table, key)
            units = write_units(max(item_size(old), item_size(item))) + index_write_units(backend, table, old, new)
            parts.append((_label(table, key), 0.0, units))
        return parts

    def transact_write(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
        targets = []
        for entry in body.get("TransactItems") or []:
            for kind, operation in entry.items():
                table = operation.get("TableName")
                key = _key_of(backend, table, operation["Item"]) if kind == "Put" else operation.get("Key")
                size = item_size(operation.get("Item")) if kind == "Put" else 0
                targets.append((table, key, size, _stored_item(backend, table, key)))
        call()
        parts: list[Part] = []
        for table, key, size, old in targets:
            new = _stored_item(backend, table, key)
            units = write_units(max(size, item_size(old), item_size(new)), transactional=True)
            parts.append((_label(table, key), 0.0, units + index_write_units(backend, table, old, new)))
        return parts

    def transact_get(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
        result = call()
        responses = _body(result).get("Responses") or []
        requested: list[dict[str, Any]] = [next(iter(entry.values()), {}) for entry in body.get("TransactItems") or []]
        return [
            (
                _label(asked.get("TableName"), asked.get("Key")),
                read_units(item_size(response.get("Item")), True, transactional=True),
                0.0,
            )
            for asked, response in zip(requested, responses, strict=False)
        ]

    handler.put_item = metered(handler.put_item, single_write("Item"))
    handler.update_item = metered(handler.update_item, single_write("Key"))
    handler.delete_item = metered(handler.delete_item, single_write("Key"))
    handler.get_item = metered(handler.get_item, get)
    handler.query = metered(handler.query, query)
    handler.scan = metered(handler.scan, query)
    handler.batch_get_item = metered(handler.batch_get_item, batch_get)
    handler.batch_write_item = metered(handler.batch_write_item, batch_write)
    handler.transact_write_items = metered(handler.transact_write_items, transact_write)
    handler.transact_get_items = metered(handler.transact_get_items, transact_get)
