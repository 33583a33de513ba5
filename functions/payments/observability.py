"""The payments service's logger, tracer and metrics, and its business metrics.

Outcomes are counted once per decision, never on replays.
"""

from __future__ import annotations

from payments.domain.models import PaymentOutcome
from shared.observability import count, service_observability

logger, tracer, metrics, entry = service_observability("payments")

_METRICS = {
    "AUTHORIZED": "PaymentAuthorized",
    "DECLINED": "PaymentDeclined",
    "CAPTURED": "PaymentCaptured",
    "REFUNDED": "PaymentRefunded",
    "VOIDED": "PaymentVoided",
    "FAILED": "PaymentFailed",
}


def record_outcome(outcome: PaymentOutcome) -> None:
    name = _METRICS.get(outcome.status)
    if name and not outcome.replayed:
        count(metrics, name)


def record_provider_unavailable() -> None:
    count(metrics, "PaymentProviderUnavailable")
