"""The meter of one local cloud: its records as the hooks (`local.meter.hooks`,
`local.meter.dynamodb`) and the runner hand them in, read back per order by `usage`."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from local.meter.attribution import CID_IN_TEXT, EXECUTION_TRACES, correlation_ids, trace_root, trigger_of
from local.meter.records import UNATTRIBUTED, ApiRequest, AwsCall, Execution, Invocation, Usage
from local.meter.registry import METERS_LOCK
from local.meter.usage import usage_of


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
            match = CID_IN_TEXT.search(line)
            if match:
                current = match.group(1)
                if current not in cids:
                    cids.append(current)
            if '"TimeToDecision"' in line and current is not None and current not in decisions:
                decisions.append(current)
        if not cids:
            cids = correlation_ids(event)
        log_bytes += self.platform_log_bytes(spec)
        duration_ms = getattr(result, "handler_ms", 0.0) or result.duration_ms
        start = end - duration_ms / 1000
        timing = getattr(result, "timing", None)
        if timing is not None:  # the worker's own clock: the handler's run, without the hand-over
            start, end = timing.started, timing.ended
            duration_ms = (end - start) * 1000
        invocation = Invocation(
            function=spec.name,
            request_id=result.request_id,
            trace_root=trace_root(getattr(result, "trace", "")) or "",
            trigger=trigger_of(event, spec),
            start=start,
            end=end,
            duration_ms=duration_ms,
            memory_mb=int(spec.memory_size),
            errored=bool(result.errored),
            correlation_ids=cids,
            decisions=decisions,
            log_bytes=log_bytes,
            client_calls=list(timing.sends) if timing is not None else [],
            cpu_ms=timing.cpu * 1000 if timing is not None else None,
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
        # Seen from the function, a request also waits to be read and answered by a busy server:
        # its side of each request, where its worker timed them, is the whole wait.
        sent = sum(max(0.0, min(e, cut) - max(s, invocation.start)) for s, e in invocation.client_calls) * 1000
        return max(waited, sent), [c for c in calls if c.end <= cut]

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
        with METERS_LOCK:
            owners = dict(EXECUTION_TRACES)
        with self._lock:
            return owners | {i.trace_root: i.correlation_ids for i in self.invocations if i.trace_root}

    def usage(self) -> dict[str, Usage]:
        """Counts per correlation id ('-' for what belongs to no order)."""
        owners = self.trace_owners()
        with self._lock:
            api = list(self.api_requests)
            invocations = list(self.invocations)
            executions = list(self.executions)
            counters = list(self.counters)
        return usage_of(api, invocations, executions, counters, owners)
