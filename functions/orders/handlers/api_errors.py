"""The orders API's own errors, in the one shape of shared.http_errors (the shared ones are there)."""

from __future__ import annotations

from http import HTTPStatus

from orders.domain.errors import InvalidOrderError, OrderNotFoundError
from orders.observability import logger
from shared.http_errors import RETRY_AFTER, ApiError, Problem, header_problem, idempotency_key_conflict, unavailable

IDEMPOTENCY_HEADER = "Idempotency-Key"


def idempotency_conflict(_: Exception) -> ApiError:
    return idempotency_key_conflict("order")


def in_progress(_: Exception) -> ApiError:
    problem = header_problem(IDEMPOTENCY_HEADER, "in_progress", "a request with this key is in progress")
    return ApiError(
        HTTPStatus.CONFLICT, "request_in_progress", "retry in a second with the same key", [problem], RETRY_AFTER
    )


def order_not_found(error: OrderNotFoundError) -> ApiError:
    problem = Problem(field="order_id", location="path", type="not_found", message="no order with this id")
    return ApiError(HTTPStatus.NOT_FOUND, "order_not_found", f"order {error.order_id[:128]} not found", [problem])


def invalid_order(error: InvalidOrderError) -> ApiError:
    details = [Problem(**p.model_dump()) for p in error.problems]
    return ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, "order_not_acceptable", "the order cannot be accepted", details)


def dependency_unavailable(error: Exception) -> ApiError:
    logger.warning("dependency unavailable", extra={"error_type": type(error).__name__})
    return unavailable("temporarily unavailable: retry with the same Idempotency-Key")
