"""One Logger, Tracer and Metrics per service, configured from the environment.

POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE are set per function by the
infrastructure; this module only gives every service the same construction.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from shared import tracing


def observability(service: str) -> tuple[Logger, Tracer, Metrics]:
    """The environment (set per function by the infrastructure) wins over the defaults."""
    service = os.environ.get("POWERTOOLS_SERVICE_NAME", service)
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "orderflow")
    logger = Logger(service=service)
    # X-Ray loads with the first traced call (never, with tracing off), patching botocore only.
    tracer = Tracer(service=service, provider=tracing.provider, patch_modules=tracing.PATCHED)
    metrics = Metrics(service=service, namespace=namespace)
    return logger, tracer, metrics


Handler = TypeVar("Handler", bound=Callable[..., Any])

# What the Powertools logger adds from the Lambda context that every line of a log group repeats:
# the log group names the function, Lambda's metrics give its memory. The request id and the cold
# start flag stay (which invocation, and was it the first). Logs are billed by the byte ingested.
REDUNDANT_CONTEXT_KEYS = ("function_name", "function_arn", "function_memory_size")

# An invocation that counts nothing (a relay batch, a timeline batch) is normal here: Powertools'
# warning about it would be two log lines on every such invocation (its documented filter).
warnings.filterwarnings("ignore", "No application metrics to publish*")


def entry_point(
    logger: Logger, tracer: Tracer, metrics: Metrics, *, capture_response: bool | None = None, cold_start: bool = False
) -> Callable[[Handler], Handler]:
    """The decorator a service's Lambda handlers wear: the Powertools logger's Lambda context
    (state cleared per invocation, less what the log group already says), around the trace,
    around the metrics flush."""

    def wear(handler: Handler) -> Handler:
        measured = metrics.log_metrics(handler, capture_cold_start_metric=cold_start)
        traced = tracer.capture_lambda_handler(measured, capture_response=capture_response)

        @functools.wraps(traced)
        def slim(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
            logger.remove_keys(list(REDUNDANT_CONTEXT_KEYS))
            return traced(event, context, *args, **kwargs)

        return cast(Handler, logger.inject_lambda_context(slim, clear_state=True))

    return wear


class EntryPoint(Protocol):
    def __call__(self, handler: Handler, /) -> Handler: ...


class ServiceObservability(NamedTuple):
    logger: Logger
    tracer: Tracer
    metrics: Metrics
    entry: EntryPoint


def service_observability(
    service: str, *, capture_response: bool | None = None, cold_start: bool = False
) -> ServiceObservability:
    """A service's logger, tracer and metrics, and the ``entry_point`` its handlers wear."""
    logger, tracer, metrics = observability(service)
    wear = entry_point(logger, tracer, metrics, capture_response=capture_response, cold_start=cold_start)
    return ServiceObservability(logger, tracer, metrics, wear)


def count(metrics: Metrics, name: str) -> None:
    """One data point of a business counter, flushed with the invocation's metrics."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def bind_correlation(logger: Logger, correlation_id: str, order_id: str | None = None) -> None:
    """Every log line from here on carries the correlation id (and the order, if known)."""
    keys = {"correlation_id": correlation_id}
    if order_id:
        keys["order_id"] = order_id
    logger.append_keys(**keys)


def without_values(error: ValidationError) -> str:
    """A pydantic error as "field: problem" pairs; its default text quotes inputs, tokens included."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or '<root>'}: {e['type']}" for e in error.errors())
