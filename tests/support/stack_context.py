"""The context the test session synthesizes the app with (tests/conftest.py), and what the tests
derive from it: a test stack with fault injection, a short fault-document cache, a short saga
task timeout and short batching windows, so that a test of a late answer waits seconds, not minutes."""

from __future__ import annotations

from typing import Any

# The functions' fault-document cache (tests/e2e/faults.py waits this long after a switch).
FAULTS_CACHE_SECONDS = 0.5
# How long the saga and the payment workflow wait for a task (8 s in a deployment).
SAGA_TASK_TIMEOUT_SECONDS = 5
# The event consumers' batching windows (2 s in a deployment): a test waiting for a shipment, or
# for a retried message's next batch, waits 1 s per receive.
BATCHING_WINDOW_SECONDS = 1
# A step answering this late has outlived its task timeout, yet finishes within its function's 10 s.
PAST_THE_TASK_TIMEOUT_MS = (SAGA_TASK_TIMEOUT_SECONDS + 1) * 1000

CONTEXT: dict[str, Any] = {
    "orderflow:faultInjection": True,
    "orderflow:faultsCacheSeconds": FAULTS_CACHE_SECONDS,
    "orderflow:sagaTaskTimeoutSeconds": SAGA_TASK_TIMEOUT_SECONDS,
    "orderflow:batchingWindowSeconds": BATCHING_WINDOW_SECONDS,
}
