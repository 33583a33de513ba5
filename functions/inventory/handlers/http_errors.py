"""Uniform JSON errors for a Powertools REST resolver: ``{"error": <code>, "details": ...}``.

Nothing in this module knows about inventory: a service registers its own domain
exceptions through ``domain_errors``, so the module can move to ``shared`` as is.

- malformed JSON -> 400 ``malformed_json``; a required header missing -> 400 ``missing_header``;
  other validation -> 422 ``validation_error``, ``details`` listing
  ``{"field", "location", "type", "message"}`` per problem (inputs are never echoed back, they
  may hold secrets; a header is named as it is spelled, e.g. ``If-Match``);
- unknown route -> 404 ``not_found``; unsupported content type -> 415;
- a body that is JSON but not an object -> 422 (see ``json_object_body``);
- injected or real transient faults -> 503; anything else -> 500 (logged with its traceback).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from shared.faults import InjectedFault


@dataclass(frozen=True)
class ApiError:
    status: HTTPStatus
    error: str
    details: Any = field(default_factory=dict)

    def response(self) -> Response:
        return Response(
            status_code=int(self.status),
            content_type=content_types.APPLICATION_JSON,
            body=json.dumps({"error": self.error, "details": self.details}),
        )


DomainErrorMapper = Callable[[Any], ApiError]


def _header_name(name: str) -> str:
    """Powertools reports headers lower-cased: "if-match" -> "If-Match"."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def validation_details(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic/Powertools error entries -> ``[{"field", "location", "type", "message"}]``."""
    details = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        location = loc[0] if loc else "request"
        if location == "header" and len(loc) > 1:
            loc[1] = _header_name(loc[1])
        details.append(
            {
                "field": ".".join(loc[1:]) or location,
                "location": location,
                "type": error.get("type", "invalid"),
                "message": error.get("msg", "invalid value"),
            }
        )
    return details


def _validation_error(error: RequestValidationError) -> ApiError:
    errors = list(error.errors())
    malformed = [e for e in errors if e.get("type") == "json_invalid"]
    if malformed:
        message = (malformed[0].get("ctx") or {}).get("error", "invalid JSON")
        details = [{"field": "body", "location": "body", "type": "json_invalid", "message": message}]
        return ApiError(HTTPStatus.BAD_REQUEST, "malformed_json", details)
    missing_headers = [e for e in errors if e.get("type") == "missing" and tuple(e.get("loc", ()))[:1] == ("header",)]
    if missing_headers:
        # The request cannot be understood without it (API Gateway answers 400 for it too).
        return ApiError(HTTPStatus.BAD_REQUEST, "missing_header", validation_details(missing_headers))
    return ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", validation_details(errors))


def json_object_body(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Route middleware: the JSON body must be an object.

    Powertools' validation unwraps a list to its first element (a form-data convenience), so
    ``[{...valid...}]`` would pass as ``{...valid...}``. This runs after that validation and
    before the route, so the request is refused before anything is written.
    """
    if not isinstance(app.current_event.json_body, dict):
        raise RequestValidationError(
            [{"type": "model_attributes_type", "loc": ("body",), "msg": "Input should be a JSON object"}]
        )
    return next_middleware(app)


def register_error_handlers(
    app: APIGatewayRestResolver,
    logger: Logger,
    domain_errors: Mapping[type[Exception], DomainErrorMapper] | None = None,
) -> None:
    """Install the JSON error mapping on ``app``; the most specific exception class wins."""

    @app.exception_handler(RequestValidationError)
    def _on_validation(error: RequestValidationError) -> Response:
        api_error = _validation_error(error)
        logger.info("request rejected", extra={"status": int(api_error.status), "details": api_error.details})
        return api_error.response()

    @app.exception_handler(RequestUnsupportedContentType)
    def _on_content_type(error: RequestUnsupportedContentType) -> Response:
        return ApiError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            {"field": "content-type", "expected": content_types.APPLICATION_JSON},
        ).response()

    @app.not_found
    def _on_not_found(_: Exception) -> Response:
        return ApiError(HTTPStatus.NOT_FOUND, "not_found", {"path": app.current_event.path}).response()

    for exception_type, mapper in (domain_errors or {}).items():
        app.exception_handler(exception_type)(_domain_handler(mapper))

    @app.exception_handler(InjectedFault)
    def _on_fault(error: InjectedFault) -> Response:
        logger.warning("transient fault", extra={"error": str(error)})
        return ApiError(HTTPStatus.SERVICE_UNAVAILABLE, "service_unavailable", {}).response()

    @app.exception_handler(Exception)
    def _on_unexpected(error: Exception) -> Response:
        logger.exception("unhandled error")
        return ApiError(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", {}).response()


def _domain_handler(mapper: DomainErrorMapper) -> Callable[[Exception], Response]:
    def handle(error: Exception) -> Response:
        return mapper(error).response()

    return handle
