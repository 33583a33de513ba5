"""The inventory service's logger, tracer and metrics, and its business metrics.

Outcomes are counted once per decision, never on replays.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from inventory.domain.models import ReleaseOutcome, ReservationOutcome
from shared.observability import entry_point, observability

SERVICE = "inventory"

logger, tracer, metrics = observability(SERVICE)
entry = entry_point(logger, tracer, metrics)

_REJECTION_METRICS = {
    "OUT_OF_STOCK": "OrderRejectedOutOfStock",
    "UNKNOWN_SKU": "OrderRejectedUnknownSku",
    "ALREADY_RELEASED": "OrderRejectedAlreadyReleased",
}


def record_reservation(outcome: ReservationOutcome) -> None:
    if outcome.replayed:
        metrics.add_metric(name="ReservationReplayed", unit=MetricUnit.Count, value=1)
        return
    if outcome.status == "RESERVED":
        metrics.add_metric(name="StockReserved", unit=MetricUnit.Count, value=1)
    else:
        metrics.add_metric(name=_REJECTION_METRICS[outcome.reason or "OUT_OF_STOCK"], unit=MetricUnit.Count, value=1)


def record_release(outcome: ReleaseOutcome) -> None:
    if outcome.stock_moved and not outcome.replayed:
        metrics.add_metric(name="StockReleased", unit=MetricUnit.Count, value=1)
