"""The meters that record: the local cloud registers its meter here, and the hooks record each moto
call into every registered one."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from local import patches

if TYPE_CHECKING:
    from local.meter.recorder import Meter

METERS: list[Meter] = []
METERS_LOCK = threading.Lock()


def unregister(meter: Meter) -> None:
    with METERS_LOCK, contextlib.suppress(ValueError):
        METERS.remove(meter)


def active() -> list[Meter]:
    """The meters to record a moto call into: only for requests to the local cloud's server."""
    if not METERS or not patches.serving_local_request():
        return []
    with METERS_LOCK:
        return list(METERS)


def count_all(name: str, amount: float, cids: Iterable[str] = (), trace: str | None = None) -> None:
    cids = list(cids)
    for meter in active():
        meter.count(name, amount, cids, trace)


def record_execution(execution: Any) -> None:
    """Called once an execution of the local cloud's interpreter has finished."""
    with METERS_LOCK:
        meters = list(METERS)
    for meter in meters:
        meter.execution(execution)
