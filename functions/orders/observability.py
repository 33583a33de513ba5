"""The orders service's Logger, Tracer and Metrics, and its business metrics."""

from __future__ import annotations

import os

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from shared.observability import service_observability, without_values

# Every orders handler: no response in the trace (it may hold order data), a cold-start metric.
logger, tracer, metrics, entry = service_observability("orders", capture_response=False, cold_start=True)
__all__ = ["count_order", "entry", "logger", "metrics", "record_decision_time", "tracer", "without_values"]


def count_order(metric: str, flow: str, reason: str | None = None) -> None:
    """Emit one OrderPlaced / OrderConfirmed / OrderRejected data point.

    A single metric per call because dimensions differ per order (flow, reason) even inside
    one SQS batch, and Metrics shares its dimensions across a whole flush.
    """
    dimensions = {"service": logger.service, "flow": flow}
    if reason:
        dimensions["reason"] = reason
    with single_metric(
        name=metric,
        unit=MetricUnit.Count,
        value=1,
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "orderflow"),
        default_dimensions=dimensions,
    ):
        pass


def record_decision_time(flow: str, milliseconds: float) -> None:
    """TimeToDecision: from the order's creation to its CONFIRMED/REJECTED, per flow (p50/p99 on the dashboard)."""
    with single_metric(
        name="TimeToDecision",
        unit=MetricUnit.Milliseconds,
        value=max(0.0, milliseconds),
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "orderflow"),
        default_dimensions={"service": logger.service, "flow": flow},
    ):
        pass
