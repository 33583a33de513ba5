"""The errors of the orders domain; the API maps each to one HTTP status in one place."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.errors import TemplatedError


class FieldProblem(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    location: str = "body"
    type: str = "invalid"
    message: str


class InvalidOrderError(ValueError):
    """The request is well formed but cannot be accepted (unknown sku, duplicate line)."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class IdempotencyConflictError(ValueError):
    """An Idempotency-Key was reused for a different request."""


class OrderNotFoundError(TemplatedError, LookupError):
    template = "order {order_id} not found"
    order_id: str


class OrderConflictError(RuntimeError):
    """An order id already holds a different order; recording it again would corrupt it."""


class CatalogUnavailableError(RuntimeError):
    """Prices could not be read; transient."""


class SagaError(RuntimeError):
    """The order saga did not produce a usable decision."""

    def __init__(self, message: str, *, execution: str, status: str, error: str | None = None) -> None:
        super().__init__(message)
        self.execution = execution
        self.status = status
        self.error = error


class SagaFailedError(SagaError):
    """The execution failed, or its output could not be read."""


class SagaTimedOutError(SagaError):
    """The execution, or our wait for it, ran out of time."""


class SagaUnavailableError(RuntimeError):
    """Step Functions refused to start the execution (throttling, service error); transient."""
