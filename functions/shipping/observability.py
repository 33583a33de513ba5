"""The shipping service's one Logger, Tracer and Metrics."""

from __future__ import annotations

from shared.observability import observability

SERVICE = "shipping"
logger, tracer, metrics = observability(SERVICE)
