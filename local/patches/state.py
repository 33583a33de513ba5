"""The patches' process-wide state: whether they are installed, the running cloud's hooks, which
thread serves the local cloud's server, and the conditions the runner waits on."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any, Protocol

STREAM_ACTIVITY = threading.Condition()
EXECUTIONS = threading.Condition()


class State:
    """Process-wide patch state (the patched classes are process-wide too)."""

    installed = False
    hooks: RuntimeHooks | None = None
    running_executions = 0
    server_app: Any = None  # the local cloud's moto WSGI application
    request = threading.local()  # .local: this thread serves a request of the local cloud's server


@contextlib.contextmanager
def as_local_request() -> Iterator[None]:
    """The current thread acts for the local cloud's server: its request, or the service itself
    (the pollers) calling moto's backends directly."""
    previous = getattr(State.request, "local", False)
    State.request.local = True
    try:
        yield
    finally:
        State.request.local = previous


def local_hooks() -> RuntimeHooks | None:
    """The hooks, when the current thread serves a request to the local cloud's server."""
    return State.hooks if getattr(State.request, "local", False) else None


class RuntimeHooks(Protocol):
    """What the patches need from the running local cloud."""

    def invoke_function(self, function_name: str, event: Any, invoked_arn: str) -> tuple[str, bool, str]:
        """Runs one synchronous invocation: (payload JSON, errored, log text)."""
        ...

    def invoke_function_async(self, function_name: str, event: Any) -> None:
        """Queues an asynchronous (`Event`) invocation."""
        ...

    def deliver_rule_target(self, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
        """Delivers a matched event to a Lambda, Step Functions or SNS target."""
        ...

    def notify_activity(self) -> None:
        """Something moved (an execution started or ended): wake whoever waits for idleness."""
        ...


def notify_activity() -> None:
    hooks = State.hooks
    if hooks is not None:
        hooks.notify_activity()
