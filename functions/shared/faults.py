"""Fault injection, driven by configuration rather than code edits.

The JSON document in the SSM parameter named by ``ORDERFLOW_FAULTS_PARAMETER`` maps
``"<service>.<operation>"`` (or ``"<service>.*"``) to a fault, or to a list of faults::

    {"payments.authorize": {"failure_rate": 0.2}, "shipping.*": {"outage": true},
     "inventory.reserve": {"latency_ms": 250},
     "orders.confirm": {"phase": "after", "latency_ms": 9000},
     "payments.capture": [{"phase": "lost_response", "failure_rate": 0.1},
                          {"phase": "duplicate", "failure_rate": 0.1}]}

Each fault has a ``phase``, the failure class it injects:

- ``before`` (the default): the operation never runs. ``latency_ms`` delays it, ``outage``
  raises ServiceOutage, ``failure_rate`` raises InjectedFault with that probability.
- ``after``: the operation runs and commits, then (with probability ``failure_rate``, default 1)
  sleeps ``latency_ms`` past its caller's timeout, or without a latency raises InjectedFault.
- ``lost_response``: the operation runs and commits, then its answer is lost: LostResponse.
- ``duplicate``: the operation runs twice at once (two threads started together), as when a
  retry overlaps the attempt it replaces; the caller gets the first run's answer.

Services mark each operation with ``@injectable(service, operation)``. With the variable unset
(a deployment without the ``orderflow:faultInjection`` context flag) or the parameter absent,
nothing is injected and nothing is read. The document is cached for a few seconds so that a
chaos run can switch faults on and off while it runs. Every injected fault is logged with its
class, so a run can count what it injected.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any, Literal, ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")
Phase = Literal["before", "after", "lost_response", "duplicate"]
PHASES: tuple[Phase, ...] = ("before", "after", "lost_response", "duplicate")
# The names a chaos report uses for each phase.
FAILURE_CLASS: dict[str, str] = {
    "before": "before",
    "after": "after-commit",
    "lost_response": "lost-response",
    "duplicate": "duplicate",
}

# How long a process keeps the document it read: 2 s, or what the template says (a test stack
# sets `orderflow:faultsCacheSeconds` so that its suite waits less after each switch).
_CACHE_SECONDS = float(os.environ.get("ORDERFLOW_FAULTS_CACHE_SECONDS") or 2.0)
_cache: dict[str, Any] = {"loaded_at": 0.0, "document": {}}
_log = logging.getLogger("orderflow.faults")


class InjectedFault(RuntimeError):
    """A configured, transient failure. Retry policies treat it like any transient fault."""


class ServiceOutage(InjectedFault):
    """The service is configured as down."""


class LostResponse(InjectedFault):
    """The operation committed, but its answer never reached the caller."""


def _load() -> dict[str, Any]:
    name = os.environ.get("ORDERFLOW_FAULTS_PARAMETER")
    if not name:
        return {}
    if time.monotonic() - _cache["loaded_at"] < _CACHE_SECONDS:
        return cast(dict[str, Any], _cache["document"])
    try:
        value = _ssm().get_parameter(Name=name)["Parameter"]["Value"]
        document = json.loads(value) if value.strip() else {}
    except Exception:  # an unreadable fault document must never become a fault itself
        document = {}
    _cache["loaded_at"] = time.monotonic()
    _cache["document"] = document if isinstance(document, dict) else {}
    return cast(dict[str, Any], _cache["document"])


@functools.cache
def _ssm() -> Any:
    """One SSM client per process: building one costs more than the read it makes (boto3 clients are thread-safe)."""
    import boto3

    return boto3.client("ssm")


def reset_cache() -> None:
    _cache["loaded_at"] = 0.0
    _cache["document"] = {}
    _ssm.cache_clear()


def faults_for(service: str, operation: str) -> list[dict[str, Any]]:
    """The faults configured for one operation (its own entry wins over the service wildcard)."""
    document = _load()
    if not document:
        return []
    entry = document.get(f"{service}.{operation}") or document.get(f"{service}.*")
    entries = entry if isinstance(entry, list) else [entry] if entry else []
    return [fault for fault in entries if isinstance(fault, dict) and fault.get("phase", "before") in PHASES]


def _record(fault_class: str, service: str, operation: str) -> None:
    _log.warning(
        "fault injected: %s %s.%s",
        fault_class,
        service,
        operation,
        extra={"fault_class": fault_class, "fault_operation": f"{service}.{operation}"},
    )


def _fires(fault: dict[str, Any], default: float) -> bool:
    rate = float(fault.get("failure_rate", default))
    return rate >= 1 or (rate > 0 and random.random() < rate)


def _before(fault: dict[str, Any], service: str, operation: str) -> None:
    if fault.get("latency_ms"):
        time.sleep(float(fault["latency_ms"]) / 1000)
    if fault.get("outage"):
        _record("before", service, operation)
        raise ServiceOutage(f"injected outage: {service}.{operation}")
    if _fires(fault, 0):
        _record("before", service, operation)
        raise InjectedFault(f"injected failure: {service}.{operation}")


def inject(service: str, operation: str) -> None:
    """The `before` faults of one operation (for code that is not a single callable)."""
    for fault in faults_for(service, operation):
        if fault.get("phase", "before") == "before":
            _before(fault, service, operation)


def _twice(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run `function` twice at once; return (or raise) what the first run produced."""
    start = threading.Barrier(2)
    outcomes: list[tuple[bool, Any]] = [(False, None), (False, None)]

    def run(index: int) -> None:
        start.wait()
        try:
            outcomes[index] = (True, function(*args, **kwargs))
        except BaseException as error:  # re-raised in the caller's thread below
            outcomes[index] = (False, error)

    twin = threading.Thread(target=run, args=(1,), daemon=True)
    twin.start()
    run(0)
    twin.join()
    succeeded, value = outcomes[0]
    if not succeeded:
        raise value
    return cast(R, value)


def run_with_faults(service: str, operation: str, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    configured = faults_for(service, operation)
    if not configured:
        return function(*args, **kwargs)
    for fault in configured:
        if fault.get("phase", "before") == "before":
            _before(fault, service, operation)
    chosen = next((f for f in configured if f.get("phase", "before") != "before" and _fires(f, 1.0)), None)
    if chosen is None:
        return function(*args, **kwargs)
    phase = chosen["phase"]
    _record(FAILURE_CLASS[phase], service, operation)
    if phase == "duplicate":
        return _twice(function, *args, **kwargs)
    result = function(*args, **kwargs)
    if phase == "lost_response":
        raise LostResponse(f"injected lost response: {service}.{operation} committed")
    if chosen.get("latency_ms"):
        time.sleep(float(chosen["latency_ms"]) / 1000)
        return result
    raise InjectedFault(f"injected failure after commit: {service}.{operation}")


def injectable(service: str, operation: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a function or method as the operation `service.operation` for fault injection."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            return run_with_faults(service, operation, function, *args, **kwargs)

        return wrapper

    return decorate
