"""The inventory service's logger, tracer and metrics (one set per service)."""

from shared.observability import observability

SERVICE = "inventory"

logger, tracer, metrics = observability(SERVICE)
