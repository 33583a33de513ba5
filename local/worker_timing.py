"""What a local Lambda execution environment (local/worker.py) reports of each invocation besides its
result: the handler's run and the CPU it used, and every HTTP request botocore sent, on the
system-wide monotonic clock (the runner's too). The meter takes the function's waits for the local
cloud from these (queueing at a busy server included), and its own time as what is left.

Standard library only, like the worker: nothing of the repository is importable in a function's
environment.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import time
from typing import Any

MODULE = "botocore.httpsession"
_sends: list[tuple[float, float]] = []


class _TimeSends(importlib.abc.MetaPathFinder):
    """Wraps ``URLLib3Session.send`` when botocore loads it, not before: a handler that never calls
    AWS does not import botocore for this."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            load(module)
            _wrap_send(module.URLLib3Session)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def _wrap_send(session_class: Any) -> None:
    send = session_class.send

    def timed_send(self: Any, request: Any) -> Any:
        started = time.monotonic()
        try:
            return send(self, request)
        finally:
            _sends.append((started, time.monotonic()))

    session_class.send = timed_send


def install() -> None:
    loaded = sys.modules.get(MODULE)
    if loaded is not None:  # imported before the worker started (local/zygote.py)
        _wrap_send(loaded.URLLib3Session)
    else:
        sys.meta_path.insert(0, _TimeSends())


class Clock:
    """One invocation: started when created, reported once the handler has returned."""

    def __init__(self) -> None:
        _sends.clear()
        self.started, self.cpu = time.monotonic(), time.process_time()

    def report(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "ended": time.monotonic(),
            "sends": list(_sends),
            "cpu": time.process_time() - self.cpu,
        }
