"""How long a switch of the fault document takes to reach every warm function process.

Each process keeps the document it read for 2 s (functions/shared/faults.py), or for what its
template's ORDERFLOW_FAULTS_CACHE_SECONDS says (a test stack's `orderflow:faultsCacheSeconds`).
There is no per-process signal to poll, so whoever switches it waits the longest cache once,
plus a margin for a read that was in flight when the document changed.
"""

from __future__ import annotations

from typing import Any

DEFAULT_CACHE_SECONDS = 2.0  # functions/shared/faults.py without the variable
READ_IN_FLIGHT_SECONDS = 0.5


def cache_seconds(template: dict[str, Any]) -> float:
    """The longest fault-document cache of the template's functions that read the document."""
    cached = [
        float(variables.get("ORDERFLOW_FAULTS_CACHE_SECONDS") or DEFAULT_CACHE_SECONDS)
        for resource in template.get("Resources", {}).values()
        if resource.get("Type") == "AWS::Lambda::Function"
        for variables in [resource.get("Properties", {}).get("Environment", {}).get("Variables", {})]
        if "ORDERFLOW_FAULTS_PARAMETER" in variables
    ]
    return max(cached, default=DEFAULT_CACHE_SECONDS)


def settle_seconds(template: dict[str, Any]) -> float:
    """How long after a switch every warm process serves the new document."""
    return cache_seconds(template) + READ_IN_FLIGHT_SECONDS
