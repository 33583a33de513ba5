"""The orders service's Logger, Tracer and Metrics, and its business metrics."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from shared.observability import observability

SERVICE = "orders"
NAMESPACE = "orderflow"

logger, tracer, metrics = observability(SERVICE)


def count_order(metric: str, flow: str, reason: str | None = None) -> None:
    """Emit one OrderPlaced / OrderConfirmed / OrderRejected data point.

    A single metric per call because dimensions differ per order (flow, reason) even inside
    one SQS batch, and Metrics shares its dimensions across a whole flush.
    """
    dimensions = {"service": SERVICE, "flow": flow}
    if reason:
        dimensions["reason"] = reason
    with single_metric(name=metric, unit=MetricUnit.Count, value=1, namespace=NAMESPACE, default_dimensions=dimensions):
        pass
