"""inventory-api: ``PUT /inventory/{sku}`` sets stock and price, ``GET /inventory/{sku}`` reads it,
``POST /inventory/{sku}/adjustments`` adds to (or takes from) available stock, once per Idempotency-Key.

Every answer with a stock item carries its ``version`` and the same as an ``ETag`` header; a PUT
with ``If-Match`` is a conditional write (412 when the version moved on), see docs/architecture.md.
"""

# No "from __future__ import annotations" here: Powertools resolves the route signatures
# (path and body models) at runtime, and string annotations would not resolve.

import re
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse, OpenAPIResponseHeader
from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.dependencies import api_inventory
from inventory.domain.errors import (
    AdjustmentOutOfRange,
    IdempotencyKeyReused,
    PreconditionFailed,
    SkuNotFound,
    StockContention,
)
from inventory.domain.models import Adjustment, Precondition, StockItem
from inventory.handlers.models import (
    AdjustmentBody,
    IdempotencyKey,
    IfMatch,
    IfNoneMatch,
    SetStockBody,
    Sku,
    StockItemView,
)
from inventory.observability import entry, logger, metrics, tracer
from shared.correlation import CORRELATION_HEADER, correlation_from_headers
from shared.http import unsupported_media_type
from shared.http_errors import (
    ApiError,
    ErrorBody,
    Problem,
    header_problem,
    idempotency_key_conflict,
    json_object_body,
    register_error_handlers,
    unavailable,
)
from shared.observability import bind_correlation, count

app = APIGatewayRestResolver(enable_validation=True)
REPLAYED_HEADER = "Idempotent-Replayed"


def _precondition_failed(error: PreconditionFailed) -> ApiError:
    if error.current_version is None:
        message = "the sku does not exist"
    else:
        version = error.current_version
        message = f'the stock item is at version {version}: GET it, then retry with If-Match: "{version}"'
    context: dict[str, int | str | None] = {"sku": error.sku, "current_version": error.current_version}
    problem = header_problem("If-Match", "precondition_failed", message, context)
    return ApiError(HTTPStatus.PRECONDITION_FAILED, "precondition_failed", message, [problem])


def _out_of_range(error: AdjustmentOutOfRange) -> ApiError:
    if error.below_zero:
        code, message = "insufficient_stock", f"available {error.available} cannot go below zero"
    else:
        code, message = "stock_limit_exceeded", f"available cannot exceed {error.limit}"
    context: dict[str, int | str | None] = {"sku": error.sku, "available": error.available, "delta": error.delta}
    problem = Problem(field="delta", location="body", type=code, message=message, context=context)
    return ApiError(HTTPStatus.CONFLICT, code, message, [problem])


def _key_reused(_: IdempotencyKeyReused) -> ApiError:
    return idempotency_key_conflict("adjustment")


def _sku_not_found(error: SkuNotFound) -> ApiError:
    problem = Problem(field="sku", location="path", type="not_found", message="no stock item with this sku")
    return ApiError(HTTPStatus.NOT_FOUND, "sku_not_found", f"sku {error.sku} not found", [problem])


register_error_handlers(
    app,
    logger,
    {
        SkuNotFound: _sku_not_found,
        PreconditionFailed: _precondition_failed,
        AdjustmentOutOfRange: _out_of_range,
        IdempotencyKeyReused: _key_reused,
        StockContention: lambda _: unavailable("the stock item is busy: retry with the same Idempotency-Key"),
    },
    routes=((r"^/inventory/[^/]+/?$", ("GET", "PUT")), (r"^/inventory/[^/]+/adjustments/?$", ("POST",))),
)

_ETAG_HEADER: OpenAPIResponseHeader = {"description": 'The item\'s version, quoted ("7"): send it back as If-Match'}


def _responses(*errors: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI entries: the stock item on success, every error in the shared {"error", "message", "details"} shape."""
    return {
        200: {
            "description": "the stock item",
            "headers": {"ETag": _ETAG_HEADER},
            "content": {"application/json": {"model": StockItemView}},
        },
        **{
            code: {"description": HTTPStatus(code).phrase, "content": {"application/json": {"model": ErrorBody}}}
            for code in errors
        },
    }


_ENTITY_TAG = re.compile(r'(W/)?("?)([0-9]{1,15})\2')


def _versions(field: str, *, weak: bool) -> frozenset[int]:
    """The versions an If-Match/If-None-Match list names; weak tags count only if ``weak``."""
    versions = set()
    for tag in field.split(","):
        found = _ENTITY_TAG.fullmatch(tag.strip())
        if found and (weak or not found.group(1)):
            versions.add(int(found.group(3)))
    return frozenset(versions)


def precondition(if_match: str | None, if_none_match: str | None) -> Precondition:
    """The conditional headers as a Precondition (RFC 9110 13.1.1 and 13.1.2).

    If-Match compares strongly: a weak tag (W/"7") never matches, and neither does a tag that is
    not a version, so a malformed If-Match answers 412. If-None-Match compares weakly.
    """
    must_not_exist = if_none_match is not None and if_none_match.strip() == "*"
    excluded = _versions(if_none_match, weak=True) if if_none_match is not None and not must_not_exist else frozenset()
    if if_match is None:
        return Precondition(must_not_exist=must_not_exist, excluded_versions=excluded)
    if if_match.strip() == "*":
        return Precondition(must_exist=True, must_not_exist=must_not_exist, excluded_versions=excluded)
    return Precondition(
        versions=_versions(if_match, weak=False), must_not_exist=must_not_exist, excluded_versions=excluded
    )


def _stock_response(item: StockItem, headers: dict[str, str] | None = None) -> Response[StockItemView]:
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=StockItemView(**item.view()),
        headers={"ETag": f'"{item.version}"', **(headers or {})},
    )


@app.put(
    "/inventory/<sku>",
    middlewares=[json_object_body],
    responses=_responses(400, 404, 412, 415, 422, 500, 503),
)
@tracer.capture_method
def put_stock(
    sku: Sku, body: SetStockBody, if_match: IfMatch = None, if_none_match: IfNoneMatch = None
) -> Response[StockItemView]:
    item = api_inventory().set_stock(sku, body.available, body.price_cents, precondition(if_match, if_none_match))
    count(metrics, "StockSet")
    return _stock_response(item)


@app.get("/inventory/<sku>", responses=_responses(404, 422, 500, 503))
@tracer.capture_method
def get_stock(sku: Sku) -> Response[StockItemView]:
    return _stock_response(api_inventory().get_stock(sku))


@app.post(
    "/inventory/<sku>/adjustments",
    middlewares=[json_object_body],
    responses=_responses(400, 404, 409, 415, 422, 500, 503),
)
@tracer.capture_method
def adjust_stock(sku: Sku, body: AdjustmentBody, idempotency_key: IdempotencyKey) -> Response[StockItemView]:
    outcome = api_inventory().adjust_stock(
        Adjustment(sku=sku, key=idempotency_key, delta=body.delta, reason=body.reason)
    )
    if outcome.replayed:
        count(metrics, "StockAdjustmentReplayed")
        return _stock_response(outcome.item, {REPLAYED_HEADER: "true"})
    count(metrics, "StockAdjusted")
    return _stock_response(outcome.item)


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlation_id = correlation_from_headers(event.get("headers"))
    bind_correlation(logger, correlation_id)
    response = unsupported_media_type(event) or app.resolve(event, context)
    # Echo the id so a caller can find every log line and event of its request.
    response.setdefault("multiValueHeaders", {})[CORRELATION_HEADER] = [correlation_id]
    return response
