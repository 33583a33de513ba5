"""Fault injection, driven by configuration rather than code edits.

The JSON document in the SSM parameter named by ``ORDERFLOW_FAULTS_PARAMETER`` maps
``"<service>.<operation>"`` (or ``"<service>.*"``) to a fault::

    {"payments.authorize": {"failure_rate": 0.2}, "shipping.*": {"outage": true},
     "inventory.reserve": {"latency_ms": 250}}

Services call ``inject(service, operation)`` at the top of each operation. With the variable
unset or the parameter absent, nothing is injected and nothing is read. The document is
cached for a few seconds so that a chaos run can switch an outage on and off while it runs.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

_CACHE_SECONDS = 2.0
_cache: dict[str, Any] = {"loaded_at": 0.0, "document": {}}


class InjectedFault(RuntimeError):
    """A configured, transient failure. Retry policies treat it like any transient fault."""


class ServiceOutage(InjectedFault):
    """The service is configured as down."""


def _load() -> dict[str, Any]:
    name = os.environ.get("ORDERFLOW_FAULTS_PARAMETER")
    if not name:
        return {}
    if time.monotonic() - _cache["loaded_at"] < _CACHE_SECONDS:
        return dict(_cache["document"])
    import boto3

    try:
        value = boto3.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
        document = json.loads(value) if value.strip() else {}
    except Exception:  # an unreadable fault document must never become a fault itself
        document = {}
    _cache["loaded_at"] = time.monotonic()
    _cache["document"] = document if isinstance(document, dict) else {}
    return dict(_cache["document"])


def reset_cache() -> None:
    _cache["loaded_at"] = 0.0
    _cache["document"] = {}


def inject(service: str, operation: str) -> None:
    document = _load()
    if not document:
        return
    fault = document.get(f"{service}.{operation}") or document.get(f"{service}.*")
    if not fault:
        return
    if fault.get("latency_ms"):
        time.sleep(float(fault["latency_ms"]) / 1000)
    if fault.get("outage"):
        raise ServiceOutage(f"injected outage: {service}.{operation}")
    rate = float(fault.get("failure_rate", 0))
    if rate and random.random() < rate:
        raise InjectedFault(f"injected failure: {service}.{operation}")
