"""inventory-api: ``PUT /inventory/{sku}`` sets stock and price, ``GET /inventory/{sku}`` reads it."""

# No "from __future__ import annotations" here: Powertools resolves the route signatures
# (path and body models) at runtime, and string annotations would not resolve.

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.domain.errors import SkuNotFound
from inventory.handlers.dependencies import api_inventory
from inventory.handlers.http_errors import ApiError, json_object_body, register_error_handlers
from inventory.handlers.models import ErrorBody, SetStockBody, Sku, StockItemView
from inventory.observability import logger, metrics, tracer
from shared.correlation import CORRELATION_HEADER, correlation_from_headers
from shared.http import unsupported_media_type
from shared.observability import bind_correlation

app = APIGatewayRestResolver(enable_validation=True)
register_error_handlers(
    app,
    logger,
    {SkuNotFound: lambda error: ApiError(HTTPStatus.NOT_FOUND, "sku_not_found", {"sku": error.sku})},
)


def _responses(*errors: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI entries: the stock item on success, every error in the {"error", "details"} shape."""
    return {
        200: {"description": "the stock item", "content": {"application/json": {"model": StockItemView}}},
        **{
            code: {"description": HTTPStatus(code).phrase, "content": {"application/json": {"model": ErrorBody}}}
            for code in errors
        },
    }


@app.put("/inventory/<sku>", middlewares=[json_object_body], responses=_responses(400, 404, 415, 422, 500, 503))
@tracer.capture_method
def put_stock(sku: Sku, body: SetStockBody) -> StockItemView:
    item = api_inventory().set_stock(sku, body.available, body.price_cents)
    metrics.add_metric(name="StockSet", unit=MetricUnit.Count, value=1)
    return StockItemView(**item.view())


@app.get("/inventory/<sku>", responses=_responses(404, 422, 500, 503))
@tracer.capture_method
def get_stock(sku: Sku) -> StockItemView:
    return StockItemView(**api_inventory().get_stock(sku).view())


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlation_id = correlation_from_headers(event.get("headers"))
    bind_correlation(logger, correlation_id)
    response = unsupported_media_type(event) or app.resolve(event, context)
    # Echo the id so a caller can find every log line and event of its request.
    response.setdefault("multiValueHeaders", {})[CORRELATION_HEADER] = [correlation_id]
    return response
