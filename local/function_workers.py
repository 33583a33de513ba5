"""One execution environment of a function: a `local/worker.py` process, its protocol and its logs.

The worker speaks one JSON request and one JSON response per line; whatever the handler prints
goes to the function's log (`FunctionLogs`), with START/END/REPORT lines as Lambda writes them.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from local import worker as worker_module
from local import worker_spawn

if TYPE_CHECKING:
    from local.functions import FunctionSpec

WORKER_SCRIPT = Path(worker_module.__file__).resolve()
INIT_TIMEOUT_SECONDS = 60.0  # AWS allows 10 s of init; a cold 2-core laptop importing boto3 needs slack
LOG_FLUSH_TIMEOUT_SECONDS = 2.0


class FunctionLogs:
    """A function's log lines: kept in memory for tests and appended to `<log_dir>/<name>.log`."""

    def __init__(self, name: str, log_dir: Path | None, max_lines: int = 100_000) -> None:
        self._lines: deque[str] = deque(maxlen=max_lines)
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            self._file = open(log_dir / f"{name}.log", "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def add(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
            if self._file is not None:
                self._file.write(line + "\n")

    def note(self, line: str) -> None:
        """A platform line (START/END/REPORT): in the file, like CloudWatch, not in `lines()`."""
        if self._file is not None:
            with self._lock:
                self._file.write(line + "\n")

    def lines(self) -> list[str]:
        with self._lock:
            return list(self._lines)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class Timing(NamedTuple):
    """An invocation as its worker saw it, on the system-wide monotonic clock: the handler's run
    (what Lambda bills, without the hand-over to the worker) and each HTTP request it sent."""

    started: float
    ended: float
    sends: list[tuple[float, float]]
    cpu: float  # seconds of CPU the worker process used meanwhile (local/worker_timing.py)


class WorkerError(Exception):
    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload.get("errorMessage", ""))
        self.payload = payload


class Worker:
    """One execution environment: a `local/worker.py` process and the pipes to it."""

    def __init__(self, spec: FunctionSpec, environment: Mapping[str, str], logs: FunctionLogs) -> None:
        self.spec = spec
        self._logs = logs
        self.last_timing: Timing | None = None
        self._buffer = b""
        self._markers: dict[str, threading.Event] = {}
        self._markers_lock = threading.Lock()
        self._current_lines: list[str] | None = None
        cwd = spec.code_dir if spec.code_dir is not None else Path.cwd()
        self.process = worker_spawn.spawn([sys.executable, "-s", str(WORKER_SCRIPT)], environment, str(cwd))
        assert self.process.stdin is not None and self.process.stdout is not None
        self._stdin = self.process.stdin
        self._stdout_fd = self.process.stdout.fileno()
        self._log_done = threading.Event()
        self._log_thread = threading.Thread(target=self._pump_logs, name=f"logs-{spec.name}", daemon=True)
        self._log_thread.start()

    # -- logs ----------------------------------------------------------------------------

    def _pump_logs(self) -> None:
        assert self.process.stderr is not None
        marker = worker_module.LOG_MARKER
        try:
            for raw in self.process.stderr:
                line = raw.decode("utf-8", errors="backslashreplace").rstrip("\n")
                if line.endswith(marker) and line.count(marker) >= 2:
                    text, _, rest = line[:-1].rpartition(marker)
                    if text:
                        self._log_line(text)
                    self._marker_event(rest).set()
                    continue
                self._log_line(line)
        finally:
            # The process is gone: nobody will write a marker any more; release every waiter.
            with self._markers_lock:
                self._log_done.set()
                for event in self._markers.values():
                    event.set()

    def _log_line(self, line: str) -> None:
        self._logs.add(line)
        current = self._current_lines
        if current is not None:
            current.append(line)

    def _marker_event(self, request_id: str) -> threading.Event:
        with self._markers_lock:
            event = self._markers.setdefault(request_id, threading.Event())
            if self._log_done.is_set():
                event.set()
            return event

    def _wait_for_logs(self, request_id: str) -> None:
        """Until the invocation's log output is complete (its marker, or the end of the stream)."""
        self._marker_event(request_id).wait(LOG_FLUSH_TIMEOUT_SECONDS)
        with self._markers_lock:
            self._markers.pop(request_id, None)

    # -- protocol ------------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict[str, Any] | None:
        """The next protocol line, or None on timeout; raises EOFError when the process is gone."""
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._stdout_fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self._stdout_fd, 1 << 16)
            if not chunk:
                raise EOFError
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def wait_ready(self) -> None:
        """Waits for the handler module to be imported (the cold start)."""
        self._current_lines = []
        try:
            message = self._read_message(time.monotonic() + INIT_TIMEOUT_SECONDS)
        except EOFError:
            self._wait_for_logs("init")
            raise WorkerError(self._exit_error("init")) from None
        if message is None:
            self.kill()
            raise WorkerError(
                {"errorType": "Runtime.InitTimeout", "errorMessage": f"Init exceeded {INIT_TIMEOUT_SECONDS:.0f} s"}
            )
        self._wait_for_logs("init")
        if message.get("type") == "init_error":
            self.kill()
            raise WorkerError(json.loads(message["payload"]))

    def invoke(self, event_json: str, request_id: str, arn: str, trace: str) -> tuple[str, bool, list[str]]:
        self.last_timing = None
        timeout = self.spec.timeout
        deadline = time.monotonic() + timeout
        deadline_ms = int(time.time() * 1000) + timeout * 1000
        header = json.dumps(
            {"type": "invoke", "id": request_id, "arn": arn, "deadline_ms": deadline_ms, "trace": trace}
        )
        lines: list[str] = []
        self._current_lines = lines
        try:
            self._stdin.write(header[:-1].encode() + b', "event": ' + event_json.encode() + b"}\n")
            self._stdin.flush()
            message = self._read_message(deadline)
        except (BrokenPipeError, EOFError):
            self._wait_for_logs(request_id)
            return json.dumps(self._exit_error(request_id)), True, lines
        if message is None:
            self.kill()
            self._log_done.wait(LOG_FLUSH_TIMEOUT_SECONDS)
            payload = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
            }
            self._logs.add(f"{_timestamp()} {request_id} Task timed out after {timeout:.2f} seconds")
            return json.dumps(payload), True, lines
        self._wait_for_logs(request_id)
        self._current_lines = None
        sends = [(start, end) for start, end in message["sends"]]
        self.last_timing = Timing(message["started"], message["ended"], sends, message["cpu"])
        return message["payload"], bool(message.get("errored")), lines

    def _exit_error(self, request_id: str) -> dict[str, Any]:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self.process.returncode
        if code is not None and code < 0:
            try:
                reason = f"signal: {signal.Signals(-code).name.removeprefix('SIG').lower()}"
            except ValueError:
                reason = f"signal: {-code}"
            reason = {"signal: segv": "signal: segmentation fault", "signal: kill": "signal: killed"}.get(
                reason, reason
            )
        else:
            reason = f"exit status {code}"
        return {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {reason}",
        }

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)

    def begin_stop(self) -> None:
        """Closes stdin: the worker's request loop ends and the process exits."""
        with contextlib.suppress(OSError):
            self._stdin.close()

    def stop(self, grace: float = 1.0) -> None:
        """Closes stdin, then kills the worker if it does not exit in time."""
        self.begin_stop()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
        self._log_done.wait(LOG_FLUSH_TIMEOUT_SECONDS)


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
