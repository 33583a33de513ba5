"""The payments service's logger, tracer and metrics, and its business metrics.

Outcomes are counted once per decision, never on replays.
"""

from __future__ import annotations

from payments.domain.models import PaymentOutcome
from shared.observability import count, service_observability

logger, tracer, metrics, entry = service_observability("payments")


def record_outcome(outcome: PaymentOutcome) -> None:
    """Count the decision as PaymentAuthorized, PaymentDeclined, PaymentCaptured, PaymentRefunded,
    PaymentVoided or PaymentFailed ("Payment" and the status); NOTHING_TO_DO is not counted."""
    if outcome.status != "NOTHING_TO_DO" and not outcome.replayed:
        count(metrics, f"Payment{outcome.status.capitalize()}")


def record_provider_unavailable() -> None:
    count(metrics, "PaymentProviderUnavailable")
