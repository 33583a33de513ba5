"""orders-api: POST /orders, GET /orders/{order_id}, GET /orders/{order_id}/timeline.

Thin on purpose: validation by the resolver, one call into logic, and every error shaped
into ``{"error", "message", "details"}`` by shared.http_errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from orders import dependencies
from orders.domain.errors import (
    CatalogUnavailableError,
    IdempotencyConflictError,
    InvalidOrderError,
    OrderNotFoundError,
    SagaUnavailableError,
)
from orders.handlers import api_errors
from orders.handlers.api_errors import IDEMPOTENCY_HEADER
from orders.handlers.models import (
    OrderAccepted,
    OrderConfirmedResponse,
    OrderRejectedResponse,
    OrderView,
    PlaceOrderRequest,
    TimelineEvent,
    TimelineView,
)
from orders.logic.placed import PlacedOrder
from orders.observability import entry, logger
from shared.correlation import CORRELATION_HEADER, correlation_from_headers
from shared.faults import InjectedFault
from shared.http import unsupported_media_type
from shared.http_errors import (
    ErrorBody,
    register_domain_errors,
    register_error_handlers,
)
from shared.observability import bind_correlation
from shared.payment_ref import PaymentRefUnavailable

if TYPE_CHECKING:
    from orders.logic.place_order import OrderPlacement

JSON = "application/json"

app = APIGatewayRestResolver(enable_validation=True)
Route = TypeVar("Route", bound=Callable[..., Any])


# --- responses ---


def _json(status: int, body: BaseModel | dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    payload = body.model_dump(mode="json", exclude_none=True) if isinstance(body, BaseModel) else body
    return Response(status_code=status, content_type=JSON, body=json.dumps(payload), headers=headers)


# The rejection reasons a caller can act on; anything else is our problem, so 503.
REJECTION_STATUS = {"OUT_OF_STOCK": 409, "PAYMENT_DECLINED": 402}


def placement_response(placed: PlacedOrder) -> Response:
    """The HTTP answer to POST /orders for a placement outcome (also for idempotent replays)."""
    if placed.flow == "choreographed" or placed.status not in ("CONFIRMED", "REJECTED"):
        # Choreographed, or a saga that outlived the API's budget: the decision follows on Location.
        accepted = OrderAccepted(order_id=placed.order_id, status=placed.status, flow=placed.flow)
        return _json(202, accepted, {"Location": f"/orders/{placed.order_id}"})
    if placed.status == "CONFIRMED":
        confirmed = OrderConfirmedResponse(
            order_id=placed.order_id,
            status="CONFIRMED",
            flow=placed.flow,
            items=placed.items,
            total_cents=placed.total_cents,
            tax_cents=placed.tax_cents,
            correlation_id=placed.correlation_id,
        )
        return _json(201, confirmed, {"Location": f"/orders/{placed.order_id}"})
    reason = placed.reason or "INTERNAL_ERROR"
    rejected = OrderRejectedResponse(order_id=placed.order_id, status="REJECTED", reason=reason)
    return _json(REJECTION_STATUS.get(reason, 503), rejected)


_DESCRIPTIONS = {
    200: "OK",
    201: "Confirmed by the saga",
    202: "Accepted: choreographed, or an orchestrated order whose saga outlived the API's 25 s budget "
    "(status PENDING); the decision follows on GET Location",
    400: "Malformed request body",
    402: "Payment declined",
    404: "Not found",
    409: "Out of stock, or a retry with the same Idempotency-Key still in progress",
    415: "Unsupported content type",
    422: "Validation failed, unknown sku, or Idempotency-Key reused with another body",
    503: "Temporarily unavailable, or rejected for a reason the caller cannot fix",
}


def _responses(models: dict[int, Any]) -> dict[int, Any]:
    """OpenAPI response entries; a code mapped to None answers with the shared ErrorBody."""
    return {
        code: {"description": _DESCRIPTIONS[code], "content": {JSON: {"model": model or ErrorBody}}}
        for code, model in models.items()
    }


# --- routes ---


@app.post(
    "/orders",
    summary="Place an order",
    description="flow=orchestrated answers with the saga's decision (201/402/409), or 202 PENDING with Location "
    "when the saga outlives the API's budget; flow=choreographed answers 202 at once. A retry with the same "
    "Idempotency-Key never starts a second saga for the order: it answers the order's current status.",
    responses=_responses(
        {
            201: OrderConfirmedResponse,
            202: OrderAccepted,
            400: None,
            402: OrderRejectedResponse,
            409: OrderRejectedResponse | ErrorBody,
            415: None,
            422: None,
            503: OrderRejectedResponse | ErrorBody,
        }
    ),
    tags=["orders"],
)
def place_order(
    order: PlaceOrderRequest,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            min_length=1,
            max_length=128,
            description="Same key, same response and never a second order.",
        ),
    ] = None,
    correlation_id: Annotated[
        str | None,
        Header(alias=CORRELATION_HEADER, description="Echoed back; generated when absent or malformed."),
    ] = None,
):  # no return annotation: the resolver would treat `Response` as a body model to validate
    placed = _placement().place(
        order,
        correlation_id=app.context["correlation_id"],
        idempotency_key=idempotency_key,
        lambda_context=app.lambda_context,
    )
    logger.info("order placement answered", extra={"flow": placed.flow, "status": placed.status})
    return placement_response(placed)


def _order_read(path: str, summary: str, view: type[BaseModel]) -> Callable[[Route], Route]:
    """A GET route on one order: ``view`` (200), or the shared error body (404, 422, 503)."""
    return app.get(
        path, summary=summary, responses=_responses({200: view, 404: None, 422: None, 503: None}), tags=["orders"]
    )


@_order_read("/orders/<order_id>", "An order's status", OrderView)
def get_order(order_id: Annotated[str, Path(min_length=1)]):  # returns Response (see place_order)
    bind_correlation(logger, app.context["correlation_id"], order_id)
    order = dependencies.queries().get_order(order_id)
    return _json(200, OrderView.model_validate(order.model_dump(exclude={"payment_ref", "payment_fingerprint"})))


@_order_read("/orders/<order_id>/timeline", "Every event of an order, oldest first", TimelineView)
def get_timeline(order_id: Annotated[str, Path(min_length=1)]):  # returns Response (see place_order)
    bind_correlation(logger, app.context["correlation_id"], order_id)
    entries = dependencies.queries().get_timeline(order_id)
    events = [TimelineEvent.model_validate(entry.model_dump()) for entry in entries]
    return _json(200, TimelineView(order_id=order_id, events=events))


# --- errors: the one shape of shared.http_errors; the orders-specific ones here ---


register_error_handlers(
    app,
    logger,
    {
        InvalidOrderError: api_errors.invalid_order,
        IdempotencyConflictError: api_errors.idempotency_conflict,
        OrderNotFoundError: api_errors.order_not_found,
        (
            SagaUnavailableError,
            CatalogUnavailableError,
            InjectedFault,
            PaymentRefUnavailable,
        ): api_errors.dependency_unavailable,
    },
    # Paths we serve and the methods each accepts; anything else on them is a 405, not a 404.
    routes=((r"^/orders/?$", ("POST",)), (r"^/orders/[^/]+/?$", ("GET",)), (r"^/orders/[^/]+/timeline/?$", ("GET",))),
)


def _placement() -> OrderPlacement:
    """The placement use case, and the answers to Powertools' idempotency errors.

    Powertools' idempotency (and boto3 under its DynamoDB layer) loads with the use case, on the
    first POST rather than at init; its errors are mapped then, before anything can raise them.
    """
    placement = dependencies.placement()
    _map_idempotency_errors()
    return placement


@cache
def _map_idempotency_errors() -> None:
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyPersistenceLayerError,
        IdempotencyValidationError,
    )

    register_domain_errors(
        app,
        {
            IdempotencyValidationError: api_errors.idempotency_conflict,
            IdempotencyAlreadyInProgressError: api_errors.in_progress,
            IdempotencyPersistenceLayerError: api_errors.dependency_unavailable,
        },
    )


# --- entry point ---


def _with_header(response: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    if isinstance(response.get("multiValueHeaders"), dict):
        response["multiValueHeaders"][name] = [value]
    else:
        response.setdefault("headers", {})[name] = value
    return response


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlation_id = correlation_from_headers(event.get("headers"))
    bind_correlation(logger, correlation_id)
    refused = unsupported_media_type(event)
    if refused is not None:
        return _with_header(refused, CORRELATION_HEADER, correlation_id)
    app.append_context(correlation_id=correlation_id)
    return _with_header(app.resolve(event, context), CORRELATION_HEADER, correlation_id)
