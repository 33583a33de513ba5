"""The notifications service's one Logger, Tracer and Metrics."""

from __future__ import annotations

from shared.observability import observability

SERVICE = "notifications"
logger, tracer, metrics = observability(SERVICE)
