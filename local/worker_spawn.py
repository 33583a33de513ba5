"""Starting a local Lambda execution environment: forked from a template process that has imported
the runtime's libraries already (local/zygote.py), or a fresh interpreter where forking would not
run exactly what a fresh one runs.

`spawn()` returns an object with what `local.function_workers.Worker` uses of `subprocess.Popen`:
`pid`, `stdin`, `stdout`, `stderr`, `poll()`, `wait(timeout)`, `kill()` and `returncode`.
Set `LOCAL_FORK_WORKERS=0` to start every environment as a fresh interpreter.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("local.functions")

ZYGOTE_SCRIPT = Path(__file__).resolve().with_name("zygote.py")
# What a function's environment imports before its first line of code runs, when it has them:
# the runtime's boto3, the Powertools layer, and what they stand on.
PRELOAD = (
    "boto3",
    "botocore.session",
    "botocore.client",
    "botocore.httpsession",
    "botocore.parsers",
    "botocore.serialize",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.event_handler.openapi.models",
    "aws_lambda_powertools.event_handler.openapi.params",
    "aws_lambda_powertools.event_handler.middlewares.openapi_validation",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.parser",
    "aws_lambda_powertools.utilities.typing",
    "pydantic",
    "pydantic.root_model",
)
# Not aws_xray_sdk: it reads AWS_XRAY_SDK_ENABLED when imported, and Powertools imports it when used.
# The variables the preloaded modules read when they are imported: one template per combination.
IMPORT_TIME_VARIABLES = ("AWS_EXECUTION_ENV", "AWS_LAMBDA_INITIALIZATION_TYPE", "LANG", "LC_ALL", "PATH", "HOME", "TZ")


class ForkedProcess:
    """An execution environment forked by the template: its pipes, and its exit as the template saw it."""

    def __init__(self, pid: int, stdin: IO[bytes], stdout: IO[bytes], stderr: IO[bytes]) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: int | None = None
        self._exited = threading.Event()

    def _set_exit(self, code: int) -> None:
        self.returncode = code
        self._exited.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout):
            raise subprocess.TimeoutExpired([str(ZYGOTE_SCRIPT)], timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)


class Zygote:
    """One template process and the thread that reads what it says."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._channel = ours
        command = [
            sys.executable,
            "-s",
            str(ZYGOTE_SCRIPT),
            str(theirs.fileno()),
            ",".join(PRELOAD),
            ",".join(environment),
        ]
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=dict(environment),
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
        theirs.close()
        hello = json.loads(self._channel.recv(1 << 20) or b"{}")
        self.loaded: frozenset[str] = frozenset(hello.get("loaded", ()))
        if not self.loaded:
            raise OSError("the worker template process did not start")
        self._lock = threading.Lock()
        self._next_id = 0
        self._answers: dict[int, tuple[threading.Event, dict[str, Any]]] = {}
        self._children: dict[int, ForkedProcess] = {}
        self._early_exits: dict[int, int] = {}
        self._reader = threading.Thread(target=self._read, name="worker-template", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self._process.poll() is None and self._reader.is_alive()

    def _read(self) -> None:
        try:
            while True:
                data = self._channel.recv(1 << 20)
                if not data:
                    break
                message = json.loads(data)
                with self._lock:
                    if "exited" in message:
                        child = self._children.pop(message["exited"], None)
                        if child is None:
                            self._early_exits[message["exited"]] = message["code"]
                        else:
                            child._set_exit(message["code"])
                    elif message.get("id") in self._answers:
                        event, answer = self._answers[message["id"]]
                        answer.update(message)
                        event.set()
        except OSError:
            pass
        finally:
            with self._lock:  # nobody will report these any more
                for child in self._children.values():
                    child._set_exit(-signal.SIGKILL)
                self._children.clear()
                for event, _ in self._answers.values():
                    event.set()

    def spawn(self, environment: Mapping[str, str], cwd: str) -> ForkedProcess:
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        theirs = [stdin_read, stdout_write, stderr_write]
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
            event, answer = threading.Event(), dict[str, Any]()
            self._answers[request_id] = (event, answer)
        try:
            request = json.dumps({"id": request_id, "env": dict(environment), "cwd": cwd}).encode()
            socket.send_fds(self._channel, [request], theirs)
        except OSError:
            for fd in (stdin_write, stdout_read, stderr_read):
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        if not event.wait(30) or "pid" not in answer:
            with self._lock:
                self._answers.pop(request_id, None)
            for fd in (stdin_write, stdout_read, stderr_read):
                os.close(fd)
            raise OSError(answer.get("error") or "the worker template process did not answer")
        child = ForkedProcess(
            answer["pid"], os.fdopen(stdin_write, "wb"), os.fdopen(stdout_read, "rb"), os.fdopen(stderr_read, "rb")
        )
        with self._lock:
            self._answers.pop(request_id, None)
            early = self._early_exits.pop(child.pid, None)
            if early is None:
                self._children[child.pid] = child
            else:
                child._set_exit(early)
        return child

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._channel.shutdown(socket.SHUT_RDWR)
        self._channel.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()


_MISSING: Any = object()
_zygotes: dict[tuple[str, ...], Zygote | None] = {}
_zygotes_lock = threading.Lock()


def _enabled() -> bool:
    return os.environ.get("LOCAL_FORK_WORKERS", "1").lower() not in ("0", "false", "no") and hasattr(socket, "send_fds")


def _template(environment: Mapping[str, str]) -> Zygote | None:
    """The template for this environment's import-time variables: started on first use, again if
    it has died; None (fresh interpreters) once it could not start."""
    key = tuple(environment.get(name, "") for name in IMPORT_TIME_VARIABLES)
    with _zygotes_lock:
        zygote = _zygotes.get(key, _MISSING)
        if zygote is _MISSING or (zygote is not None and not zygote.alive):
            base = {name: environment[name] for name in IMPORT_TIME_VARIABLES if name in environment}
            try:
                zygote = Zygote(base)
            except OSError as error:
                log.warning("execution environments start as fresh interpreters: %s", error)
                zygote = None
            _zygotes[key] = zygote
        return zygote


def _shadows(code_dir: str, loaded: frozenset[str]) -> bool:
    """Whether the asset ships a top-level module the template has imported already."""
    try:
        names = os.listdir(code_dir)
    except OSError:
        return True
    return any(name.split(".")[0] in loaded for name in names if name != "__pycache__")


def spawn(command: list[str], environment: Mapping[str, str], cwd: str) -> Any:
    """An execution environment running `command` (the worker script), forked when that is exact."""
    if _enabled():
        zygote = _template(environment)
        if zygote is not None and not _shadows(cwd, zygote.loaded):
            try:
                return zygote.spawn(environment, cwd)
            except OSError as error:
                log.warning("forking an execution environment failed (%s): starting a fresh one", error)
    return subprocess.Popen(  # noqa: S603 - our own interpreter and worker script
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=dict(environment),
        start_new_session=True,  # Ctrl-C in the terminal stops the runner, which stops us cleanly
    )


def shutdown() -> None:
    """Stops every template process (environments already forked keep running until stopped)."""
    with _zygotes_lock:
        zygotes = [zygote for zygote in _zygotes.values() if zygote is not None]
        _zygotes.clear()
    for zygote in zygotes:
        zygote.close()
