"""The context the test session synthesizes the app with (tests/conftest.py), and what the tests
derive from it: a test stack with fault injection, a short fault-document cache and a short saga
task timeout, so that a test of a late answer waits seconds, not minutes."""

from __future__ import annotations

from typing import Any

# The functions' fault-document cache (tests/e2e/faults.py waits this long after a switch).
FAULTS_CACHE_SECONDS = 0.5
# How long the saga and the payment workflow wait for a task (8 s in a deployment).
SAGA_TASK_TIMEOUT_SECONDS = 5
# A step answering this late has outlived its task timeout, yet finishes within its function's 10 s.
PAST_THE_TASK_TIMEOUT_MS = (SAGA_TASK_TIMEOUT_SECONDS + 1) * 1000

CONTEXT: dict[str, Any] = {
    "orderflow:faultInjection": True,
    "orderflow:faultsCacheSeconds": FAULTS_CACHE_SECONDS,
    "orderflow:sagaTaskTimeoutSeconds": SAGA_TASK_TIMEOUT_SECONDS,
}
