"""The chaos run's workload: the fault documents, the orders its clients place, the faults counted."""

from __future__ import annotations

import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

SERVICES = ("orders", "inventory", "payments", "shipping", "notifications")
TOKENS = ("tok_visa",) * 8 + ("tok_chargeDeclined", "tok_transient")
RETRYABLE = {500, 502, 503, 504}
# The failure classes, as the functions log them (shared/faults.py FAILURE_CLASS), in report order.
FAILURE_CLASSES = ("before", "after-commit", "lost-response", "duplicate")
# The pivot and the charge: a late answer here is what the saga's pivot logic is for.
LATE_OPERATIONS = ("orders.confirm", "payments.capture")
LATE_MS = 9000  # past the saga's 8 s task timeout, within the functions' 10 s
_INJECTED = re.compile(r"fault injected: (\S+) (\S+)")


@dataclass
class Outcome:
    order_id: str | None = None
    flow: str = ""
    status: str | None = None
    attempts: int = 0
    answers: list[int] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.order_id is not None and self.status in ("CONFIRMED", "REJECTED", "PENDING")


def faults_document(rate: float, late_rate: float = 0.0, outage: str | None = None) -> dict[str, Any]:
    """Each service's operations: one fault per failure class, each at a quarter of `rate`."""
    share = rate / 4
    classes: list[dict[str, Any]] = [
        {"phase": "before", "failure_rate": share},
        {"phase": "after", "failure_rate": share},
        {"phase": "lost_response", "failure_rate": share},
        {"phase": "duplicate", "failure_rate": share},
    ]
    document: dict[str, Any] = {f"{service}.*": classes for service in SERVICES}
    if late_rate > 0:
        # An operation's own entry replaces its service's, so it repeats the classes.
        late = {"phase": "after", "latency_ms": LATE_MS, "failure_rate": late_rate}
        document |= {operation: [*classes, late] for operation in LATE_OPERATIONS}
    if outage:
        document[f"{outage}.*"] = {"outage": True}
    return document


def place(http: requests.Session, api: str, body: dict[str, Any], attempts: int) -> Outcome:
    outcome = Outcome(flow=body["flow"])
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    for attempt in range(1, attempts + 1):
        outcome.attempts = attempt
        response = http.post(f"{api}/orders", json=body, headers=headers, timeout=90)
        outcome.answers.append(response.status_code)
        payload = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code in (201, 202, 402, 409) or (response.status_code == 503 and "status" in payload):
            outcome.order_id = payload.get("order_id")
            outcome.status = payload.get("status")
            return outcome
        if response.status_code == 409 and "Retry-After" in response.headers:
            time.sleep(float(response.headers["Retry-After"]))
            continue
        if response.status_code not in RETRYABLE:
            return outcome
        time.sleep(min(2.0, 0.1 * 2**attempt) * random.random())
    return outcome


def injected_faults(log_dir: Path) -> Counter[tuple[str, str]]:
    """(failure class, service.operation) -> how many times it was injected, from the function logs."""
    counts: Counter[tuple[str, str]] = Counter()
    for path in sorted(log_dir.glob("*.log")):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                match = _INJECTED.search(line)
                if match:
                    counts[(match.group(1), match.group(2))] += 1
    return counts
