"""The inventory service's logger, tracer and metrics, and its business metrics.

Outcomes are counted once per decision, never on replays.
"""

from __future__ import annotations

from inventory.domain.models import ReleaseOutcome, ReservationOutcome
from shared.observability import count, service_observability

logger, tracer, metrics, entry = service_observability("inventory")

_REJECTION_METRICS = {
    "OUT_OF_STOCK": "OrderRejectedOutOfStock",
    "UNKNOWN_SKU": "OrderRejectedUnknownSku",
    "ALREADY_RELEASED": "OrderRejectedAlreadyReleased",
}


def record_reservation(outcome: ReservationOutcome) -> None:
    if outcome.replayed:
        count(metrics, "ReservationReplayed")
    elif outcome.status == "RESERVED":
        count(metrics, "StockReserved")
    else:
        count(metrics, _REJECTION_METRICS[outcome.reason or "OUT_OF_STOCK"])


def record_release(outcome: ReleaseOutcome) -> None:
    if outcome.stock_moved and not outcome.replayed:
        count(metrics, "StockReleased")
