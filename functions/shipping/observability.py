"""The shipping service's one Logger, Tracer and Metrics."""

from __future__ import annotations

from shared.observability import service_observability

SERVICE = "shipping"
logger, tracer, metrics, entry = service_observability(SERVICE, capture_response=False)
