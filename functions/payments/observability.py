"""The payments service's logger, tracer and metrics, and its business metrics.

Outcomes are counted once per decision, never on replays.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from payments.domain.models import PaymentOutcome
from shared.observability import entry_point, observability

SERVICE = "payments"

logger, tracer, metrics = observability(SERVICE)
entry = entry_point(logger, tracer, metrics)

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
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def record_provider_unavailable() -> None:
    metrics.add_metric(name="PaymentProviderUnavailable", unit=MetricUnit.Count, value=1)
