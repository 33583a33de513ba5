"""Runs Lambda functions for real: a pool of warm worker processes per function.

Every invocation in the local cloud - from Step Functions, `lambda.invoke`, the API server or an
event source mapping - ends up in `FunctionPool.invoke`. Like Lambda, a pool starts execution
environments lazily (up to a concurrency limit), keeps them warm, enforces the function timeout
by killing the environment, and reports failures in Lambda's error payload format. One
environment, a worker process, is a `local.function_workers.Worker`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local import limits
from local.function_workers import WORKER_SCRIPT, FunctionLogs, Timing, Worker, WorkerError

log = logging.getLogger(__name__)

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIALOCALCLOUDFAKEKEY",
    "AWS_SECRET_ACCESS_KEY": "local-cloud-fake-secret-key",
    "AWS_SESSION_TOKEN": "local-cloud-fake-session-token",
}
# From the runner's own environment only what a process needs to start at all.
INHERITED_BASICS = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP")


@dataclass(frozen=True)
class FunctionSpec:
    """A function as the template defines it (resolved), plus where its code lives locally."""

    logical_id: str
    name: str
    arn: str
    handler: str
    runtime: str
    code_dir: Path | None
    environment: Mapping[str, str]
    timeout: int = 3
    memory_size: int = 128
    log_format: str | None = None
    application_log_level: str | None = None
    log_group: str | None = None

    @property
    def log_group_name(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"


@dataclass
class InvocationResult:
    """What an invocation returned, as Lambda reports it to its caller."""

    payload: str
    errored: bool
    request_id: str
    logs: list[str] = field(default_factory=list)
    duration_ms: float = 0.0
    cold_start: bool = False
    trace: str = ""  # the X-Ray trace header the invocation ran under (_X_AMZN_TRACE_ID)
    handler_ms: float = 0.0  # the handler's run alone (duration_ms also counts waiting for a worker)
    timing: Timing | None = None  # the worker's own view of the run and of the requests it sent

    @property
    def error_type(self) -> str | None:
        if not self.errored:
            return None
        try:
            return json.loads(self.payload).get("errorType")
        except (ValueError, AttributeError):
            return None

    def json(self) -> Any:
        return json.loads(self.payload) if self.payload else None


class FunctionPool:
    """The execution environments of one function, started on demand up to `max_concurrency`."""

    def __init__(
        self,
        spec: FunctionSpec,
        *,
        region: str,
        endpoint_url: str,
        max_concurrency: int,
        log_dir: Path | None,
        on_activity: Callable[[], None] | None = None,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.credentials = dict(credentials or FAKE_CREDENTIALS)  # the role's (local.iam), else fake ones
        self.region = region
        self.endpoint_url = endpoint_url
        self.max_concurrency = max(1, max_concurrency)
        self.logs = FunctionLogs(spec.name, log_dir)
        self._on_activity = on_activity or (lambda: None)
        self._idle: list[Worker] = []
        self._closing: list[Worker] = []
        self._count = 0
        self._in_flight = 0
        self._closed = False
        self._condition = threading.Condition()
        self.invocations = 0
        self.cold_starts = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def workers(self) -> int:
        return self._count

    def environment(self, log_stream_name: str) -> dict[str, str]:
        """Exactly the template's variables, what the Lambda runtime adds, and the local redirections."""
        spec = self.spec
        env = {key: os.environ[key] for key in INHERITED_BASICS if key in os.environ}
        env.update({key: str(value) for key, value in spec.environment.items()})
        env.update(
            {
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name,
                "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name,
                "LAMBDA_TASK_ROOT": str(spec.code_dir or Path.cwd()),
                "LAMBDA_RUNTIME_DIR": str(WORKER_SCRIPT.parent),
                "PYTHONPATH": str(spec.code_dir or Path.cwd()),
                "TZ": ":UTC",
                "_HANDLER": spec.handler,
                **self.credentials,
            }
        )
        env.setdefault("LANG", "en_US.UTF-8")
        if spec.log_format:
            env["AWS_LAMBDA_LOG_FORMAT"] = spec.log_format
        if spec.application_log_level:
            env["AWS_LAMBDA_LOG_LEVEL"] = spec.application_log_level
        env.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",  # StartSyncExecution would go to sync-<host>
                "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon locally
                # The developer's ~/.aws files must not reconfigure a function.
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            }
        )
        return env

    def _spawn(self) -> Worker:
        now = datetime.now(UTC)
        stream = f"{now:%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        worker = Worker(self.spec, self.environment(stream), self.logs)
        started = time.monotonic()
        worker.wait_ready()
        self.logs.note(
            f"INIT_REPORT Init Duration: {(time.monotonic() - started) * 1000:.2f} ms  Phase: init  Status: success"
        )
        return worker

    def _acquire(self) -> tuple[Worker | None, bool]:
        """An idle worker, or permission to start a new one (None, True); waits when at the limit."""
        with self._condition:
            while True:
                if self._closed:
                    raise RuntimeError(f"function {self.spec.name} is shut down")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive:
                        return worker, False
                    self._count -= 1
                if self._count < self.max_concurrency:
                    self._count += 1
                    return None, True
                self._condition.wait()

    def _release(self, worker: Worker | None) -> None:
        with self._condition:
            if worker is not None and worker.alive and not self._closed:
                self._idle.append(worker)
            else:
                self._count -= 1
                if worker is not None and self._closed:
                    worker.stop()
            self._condition.notify()

    def invoke(self, event: Any, *, request_id: str | None = None, invoked_arn: str | None = None) -> InvocationResult:
        """Runs one invocation synchronously and returns what Lambda would return."""
        request_id = request_id or str(uuid.uuid4())
        event_json = _event_json(event)
        limits.check_event_json(event_json)  # Lambda's 6 MB request limit: RequestEntityTooLarge
        with self._condition:
            self._in_flight += 1
            self.invocations += 1
        self._on_activity()
        started = time.monotonic()
        worker: Worker | None = None
        cold = False
        try:
            worker, cold = self._acquire()
            if worker is None:
                try:
                    worker = self._spawn()
                    self.cold_starts += 1
                except WorkerError as failure:
                    failure.payload.setdefault("requestId", request_id)
                    self._note_invocation(request_id, started, cold_start=True)
                    return InvocationResult(json.dumps(failure.payload), True, request_id, cold_start=True)
            self.logs.note(f"START RequestId: {request_id} Version: $LATEST")
            trace = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"
            running = time.monotonic()
            payload, errored, lines = worker.invoke(event_json, request_id, invoked_arn or self.spec.arn, trace)
            handler_ms = (time.monotonic() - running) * 1000
            self._note_invocation(request_id, started, cold_start=cold)
            if not worker.alive:
                worker.stop(grace=0)
            return InvocationResult(
                payload,
                errored,
                request_id,
                lines,
                (time.monotonic() - started) * 1000,
                cold_start=cold,
                trace=trace,
                handler_ms=handler_ms,
                timing=worker.last_timing,
            )
        finally:
            self._release(worker)
            with self._condition:
                self._in_flight -= 1
            self._on_activity()

    def prewarm(self) -> None:
        """Starts one execution environment ahead of the first invocation (if none exists yet)."""
        with self._condition:
            if self._count or self._closed:
                return
            self._count += 1
        worker: Worker | None = None
        try:
            worker = self._spawn()
            self.cold_starts += 1
        except WorkerError as failure:
            log.info("prewarming %s failed: %s", self.spec.name, failure)
        finally:
            self._release(worker)

    def _note_invocation(self, request_id: str, started: float, *, cold_start: bool) -> None:
        duration = (time.monotonic() - started) * 1000
        self.logs.note(f"END RequestId: {request_id}")
        self.logs.note(
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
            f"Memory Size: {self.spec.memory_size} MB{'  (cold start)' if cold_start else ''}"
        )

    def begin_close(self) -> None:
        """Refuses new invocations and tells every idle worker to exit (busy ones stop when done)."""
        with self._condition:
            self._closed = True
            self._closing, self._idle = self._idle, []
            self._condition.notify_all()
        for worker in self._closing:
            worker.begin_stop()

    def close(self) -> None:
        """Shuts the pool down; `begin_close` on every pool first lets them all stop at once."""
        if not self._closed:
            self.begin_close()
        for worker in self._closing:
            worker.stop()
        self._closing = []
        self.logs.close()


def _event_json(event: Any) -> str:
    """The event as one line of JSON (a string event that is JSON already is passed through)."""
    if isinstance(event, (bytes, bytearray)):
        event = event.decode("utf-8")
    if isinstance(event, str):
        with contextlib.suppress(ValueError):  # a plain string event stays a JSON string
            event = json.loads(event) if event.strip() else {}
    return json.dumps(event, separators=(",", ":"))
