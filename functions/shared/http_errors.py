"""The one error shape of orderflow's HTTP APIs, and the exception handlers that produce it.

Every error body, from either function or from API Gateway itself, is::

    {"error": "<code>", "message": "<a sentence for a person>", "details": [<problem>, ...]}

``error`` is a stable snake_case code a client branches on; ``message`` says what to do;
``details`` lists one problem per failing field or header (possibly none)::

    {"field": "items[0].quantity", "location": "body", "type": "greater_than_equal",
     "message": "Input should be greater than or equal to 1", "context": {...}?}

``context`` carries machine-readable values where a client needs them (the current version
for a 412, the available stock for a 409). Inputs are never echoed back: they may hold card
tokens. The codes shared by both APIs:

- 400 ``malformed_body`` (not JSON, or JSON that is not an object), ``missing_header``;
- 404 ``not_found`` (no such route; services add ``order_not_found``, ``sku_not_found``);
- 405 ``method_not_allowed`` (with ``Allow``); 415 ``unsupported_media_type``;
- 422 ``validation_error``, ``idempotency_key_conflict``;
- 409 ``request_in_progress`` (with ``Retry-After``);
- 503 ``service_unavailable`` (with ``Retry-After``); 500 ``internal_error``.

A service registers its own domain exceptions through ``domain_errors``; nothing here knows a service.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.faults import InjectedFault
from shared.observability import without_values

JSON = content_types.APPLICATION_JSON
RETRY_AFTER = {"Retry-After": "1"}


class Problem(BaseModel):
    """One failing field or header."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str = Field(description="The field (items[0].quantity), header (If-Match) or path parameter at fault")
    location: str = Field(description="body, header, path, query or request")
    type: str = Field(description="What kind of problem: missing, too_long, not_found, ...")
    message: str
    context: dict[str, int | str | None] | None = Field(
        default=None, description="Machine-readable values, e.g. current_version for a 412"
    )


class ErrorBody(BaseModel):
    """Every error either API answers (API Gateway's own errors too)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    error: str = Field(description="A stable snake_case code to branch on")
    message: str = Field(description="What went wrong and what to do, for a person")
    details: list[Problem] = Field(default_factory=list)


@dataclass(frozen=True)
class ApiError:
    status: HTTPStatus
    error: str
    message: str
    details: Sequence[Problem] = ()
    headers: Mapping[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return ErrorBody(error=self.error, message=self.message, details=list(self.details)).model_dump(
            mode="json", exclude_none=True
        )

    def response(self) -> Response:
        return Response(
            status_code=int(self.status), content_type=JSON, body=json.dumps(self.body()), headers=dict(self.headers)
        )

    def proxy_response(self) -> dict[str, Any]:
        """The same answer as an API Gateway proxy result, for refusals made before routing."""
        return {
            "statusCode": int(self.status),
            "headers": {"Content-Type": JSON, **self.headers},
            "body": json.dumps(self.body()),
        }


DomainErrorMapper = Callable[[Any], ApiError]


def header_name(name: str) -> str:
    """Powertools reports headers lower-cased: "if-match" -> "If-Match"."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def field_name(location: Iterable[Any]) -> str:
    """("items", 0, "quantity") -> "items[0].quantity"."""
    name = ""
    for part in location:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name


def problems(errors: Sequence[Mapping[str, Any]]) -> list[Problem]:
    """Pydantic/Powertools error entries -> problems (the message only: ``input`` may be a secret)."""
    found = []
    for error in errors:
        where, *path = tuple(error.get("loc", ())) or ("body",)
        name = header_name(str(path[0])) if where == "header" and path else field_name(path) or str(where)
        found.append(
            Problem(
                field=name,
                location=str(where),
                type=str(error.get("type", "invalid")),
                message=str(error.get("msg", "invalid value")),
            )
        )
    return found


def validation_error(error: RequestValidationError) -> ApiError:
    errors = list(error.errors())
    malformed = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if malformed is not None or any(tuple(e.get("loc", ())) == ("body",) for e in errors):
        # The body as a whole is wrong: not JSON, or JSON that is not an object.
        if malformed is not None:
            why = f"malformed JSON: {(malformed.get('ctx') or {}).get('error', 'cannot be parsed')}"
            kind = "json_invalid"
        else:
            whole = next(e for e in errors if tuple(e.get("loc", ())) == ("body",))
            why, kind = "the request body must be a JSON object", str(whole.get("type", "model_attributes_type"))
        problem = Problem(field="body", location="body", type=kind, message=why)
        return ApiError(HTTPStatus.BAD_REQUEST, "malformed_body", "send a JSON object as the body", [problem])
    missing = [e for e in errors if e.get("type") == "missing" and tuple(e.get("loc", ()))[:1] == ("header",)]
    if missing:  # the request cannot be understood without it (API Gateway answers 400 for it too)
        return ApiError(HTTPStatus.BAD_REQUEST, "missing_header", "a required header is missing", problems(missing))
    return ApiError(
        HTTPStatus.UNPROCESSABLE_ENTITY, "validation_error", "the request is invalid: see details", problems(errors)
    )


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


def header_problem(header: str, kind: str, message: str, context: dict[str, int | str | None] | None = None) -> Problem:
    """The problem with one request header (``kind``: its type)."""
    return Problem(field=header, location="header", type=kind, message=message, context=context)


def unsupported_media_type(content_type: str) -> ApiError:
    problem = header_problem("Content-Type", "unsupported", f"send application/json, not {content_type}")
    return ApiError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "this API speaks JSON", [problem])


def idempotency_key_conflict(what: str) -> ApiError:
    """422: an Idempotency-Key already used with another body (``what``: "order", "adjustment")."""
    message = f"this key was already used with a different request body; use a new key for a new {what}"
    problem = header_problem("Idempotency-Key", "idempotency_key_conflict", message)
    return ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, "idempotency_key_conflict", problem.message, [problem])


def unavailable(message: str = "temporarily unavailable: retry the same request") -> ApiError:
    return ApiError(HTTPStatus.SERVICE_UNAVAILABLE, "service_unavailable", message, headers=RETRY_AFTER)


def register_error_handlers(
    app: APIGatewayRestResolver,
    logger: Logger,
    domain_errors: Mapping[type[Exception] | tuple[type[Exception], ...], DomainErrorMapper] | None = None,
    *,
    routes: Sequence[tuple[str, Sequence[str]]] = (),
) -> None:
    """Install the error shape on ``app``; the most specific exception class wins.

    ``routes`` lists (path regex, methods) so a known path with another method answers 405.
    """
    known = [(re.compile(pattern), tuple(methods)) for pattern, methods in routes]

    @app.exception_handler(RequestValidationError)
    def _on_validation(error: RequestValidationError) -> Response:
        api_error = validation_error(error)
        logger.info("request refused", extra={"status": int(api_error.status), "error": api_error.error})
        return api_error.response()

    @app.exception_handler(RequestUnsupportedContentType)
    def _on_content_type(_: RequestUnsupportedContentType) -> Response:
        return unsupported_media_type(app.current_event.headers.get("content-type", "that")).response()

    @app.not_found
    def _on_not_found(_: Exception) -> Response:
        path, method = app.current_event.path or "", app.current_event.http_method
        for pattern, methods in known:
            if pattern.match(path) and method not in methods:
                problem = Problem(
                    field="method", location="request", type="method_not_allowed", message=f"use {', '.join(methods)}"
                )
                return ApiError(
                    HTTPStatus.METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    f"{method} is not allowed on this path",
                    [problem],
                    {"Allow": ", ".join(methods)},
                ).response()
        # A path of ours lands here too when its id cannot be routed ("?" or "#" in it).
        problem = Problem(field="path", location="path", type="not_found", message="no such route")
        return ApiError(HTTPStatus.NOT_FOUND, "not_found", f"nothing at {path[:256]}", [problem]).response()

    register_domain_errors(app, domain_errors or {})

    @app.exception_handler(InjectedFault)
    def _on_fault(error: InjectedFault) -> Response:
        logger.warning("transient fault", extra={"error_type": type(error).__name__})
        return unavailable().response()

    @app.exception_handler(Exception)
    def _on_unexpected(error: Exception) -> Response:
        if isinstance(error, ValidationError):  # its text quotes the values it refused
            logger.error("unhandled validation error", extra={"error": without_values(error)})
        else:
            logger.exception("unhandled error", extra={"error_type": type(error).__name__})
        return ApiError(
            HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "an internal error; it is logged"
        ).response()


def register_domain_errors(
    app: APIGatewayRestResolver,
    domain_errors: Mapping[type[Exception] | tuple[type[Exception], ...], DomainErrorMapper],
) -> None:
    """Answer these exceptions through their mappers; callable after init too, for errors of a
    module that loads with its first use (the most specific class still wins)."""
    for exception_types, mapper in domain_errors.items():
        app.exception_handler(list(exception_types) if isinstance(exception_types, tuple) else exception_types)(
            _domain_handler(mapper)
        )


def _domain_handler(mapper: DomainErrorMapper) -> Callable[[Exception], Response]:
    def handle(error: Exception) -> Response:
        return mapper(error).response()

    return handle
