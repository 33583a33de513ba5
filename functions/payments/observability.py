"""The payments service's logger, tracer and metrics (one set per service)."""

from shared.observability import observability

SERVICE = "payments"

logger, tracer, metrics = observability(SERVICE)
