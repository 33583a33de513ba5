"""Execution environments forked from the template process run what a fresh interpreter runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from local import worker_spawn
from local.function_workers import WORKER_SCRIPT

HANDLER = """
import os, sys, time
import botocore.httpsession

def lambda_handler(event, context):
    if event.get("exit") is not None:
        os._exit(event["exit"])
    if event.get("hang"):
        time.sleep(60)
    import marker
    return {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "sid": os.getsid(0),
        "cwd": os.getcwd(),
        "path0": sys.path[0],
        "env": dict(os.environ),
        "tz": time.tzname[0],
        "marker": marker.WHERE,
        "preloaded_pydantic": "pydantic" in sys.modules,
        "sends_timed": botocore.httpsession.URLLib3Session.send.__name__,
    }
"""


def _asset(root: Path, *, shadow: bool) -> Path:
    root.mkdir()
    (root / "handler.py").write_text(HANDLER)
    (root / "marker.py").write_text("WHERE = 'asset'\n")
    if shadow:  # the asset ships its own copy of a library the template has imported
        (root / "pydantic").mkdir()
        (root / "pydantic" / "__init__.py").write_text("VERSION = 'the asset copy'\n")
    return root


def _environment(root: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": str(root),
        "PYTHONPATH": str(root),
        "_HANDLER": "handler.lambda_handler",
        "ONLY_THIS_FUNCTION": "yes",
    }


class Environment:
    def __init__(self, root: Path) -> None:
        self.process: Any = worker_spawn.spawn(
            [sys.executable, "-s", str(WORKER_SCRIPT)], _environment(root), str(root)
        )
        self._buffer = b""
        assert self._read()["type"] == "ready"

    def _read(self) -> dict[str, Any]:
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise EOFError
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line)

    def invoke(self, event: dict[str, Any]) -> Any:
        request = {"type": "invoke", "id": "r1", "arn": "arn:local", "deadline_ms": int(time.time() * 1000) + 30_000}
        self.process.stdin.write(json.dumps({**request, "trace": "", "event": event}).encode() + b"\n")
        self.process.stdin.flush()
        return json.loads(self._read()["payload"])

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=10)


def test_a_forked_environment_sees_what_a_fresh_one_sees(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _asset(tmp_path / "asset", shadow=False)
    forked = Environment(root)
    seen = forked.invoke({})
    forked.close()
    monkeypatch.setenv("LOCAL_FORK_WORKERS", "0")
    fresh = Environment(root)
    baseline = fresh.invoke({})
    fresh.close()

    assert seen["ppid"] != os.getpid(), "forked by the template, not started by the runner"
    assert baseline["ppid"] == os.getpid()
    assert seen["preloaded_pydantic"] and not baseline["preloaded_pydantic"]
    for key in ("cwd", "path0", "tz", "marker", "sends_timed"):
        assert seen[key] == baseline[key], key
    assert seen["sends_timed"] == "timed_send"  # the meter still sees every HTTP request
    assert seen["sid"] == seen["pid"], "its own session, as start_new_session gives a fresh one"
    # Exactly the environment it was given (the interpreter adds nothing either way).
    assert seen["env"] == baseline["env"]
    assert seen["env"]["ONLY_THIS_FUNCTION"] == "yes" and "PYTEST_CURRENT_TEST" not in seen["env"]


def test_an_asset_that_ships_a_preloaded_library_gets_a_fresh_interpreter(tmp_path: Path) -> None:
    root = _asset(tmp_path / "asset", shadow=True)
    environment = Environment(root)
    try:
        seen = environment.invoke({})
        assert seen["ppid"] == os.getpid()
        assert not seen["preloaded_pydantic"]
    finally:
        environment.close()


@pytest.mark.parametrize(("event", "code"), [({"exit": 3}, 3), ({"hang": True}, -signal.SIGKILL)])
def test_exit_codes_reach_the_runner_as_subprocess_reports_them(
    tmp_path: Path, event: dict[str, Any], code: int
) -> None:
    environment = Environment(_asset(tmp_path / "asset", shadow=False))
    process = environment.process
    request = {"type": "invoke", "id": "r1", "arn": "arn:local", "deadline_ms": int(time.time() * 1000) + 30_000}
    process.stdin.write(json.dumps({**request, "trace": "", "event": event}).encode() + b"\n")
    process.stdin.flush()
    if event.get("hang"):
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=0.5)
        process.kill()
    assert process.wait(timeout=10) == code
    assert process.poll() == code
    deadline = time.monotonic() + 5
    while Path(f"/proc/{process.pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not Path(f"/proc/{process.pid}").exists(), "reaped, not left a zombie"
