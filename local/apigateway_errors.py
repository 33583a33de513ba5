"""API Gateway's own answers: its errors, shaped by the API's gateway responses, and MOCK integrations."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from urllib.parse import unquote

from local.apigateway_http import ApiRequest, ApiResponse
from local.apigateway_proxy import platform_headers
from local.apigateway_routes import ApiMethod, RestApi

# Gateway response type -> (status, message, x-amzn-ErrorType) of API Gateway's own answers.
GATEWAY_ERRORS: dict[str, tuple[int, str, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token", "MissingAuthenticationTokenException"),
    "BAD_REQUEST_BODY": (400, "Invalid request body", "BadRequestException"),
    "BAD_REQUEST_PARAMETERS": (400, "Missing required request parameters", "BadRequestException"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long", "RequestTooLargeException"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out", "InternalServerErrorException"),
    "API_CONFIGURATION_ERROR": (500, "Internal server error", "InternalServerErrorException"),
    "DEFAULT_5XX": (502, "Internal server error", "InternalServerErrorException"),
}
INTERNAL_ERROR = {"message": "Internal server error"}


def gateway_error(
    response_type: str,
    request: ApiRequest,
    api: RestApi | None,
    account_id: str,
    *,
    status: int | None = None,
    message: str | None = None,
    validation: str = "",
) -> ApiResponse:
    """An error API Gateway itself answers, shaped by the API's GatewayResponses if it has them."""
    default_status, default_message, error_type = GATEWAY_ERRORS[response_type]
    status = status or default_status
    message = message or default_message
    configured = None
    if api is not None:
        configured = api.gateway_responses.get(response_type) or api.gateway_responses.get(
            "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        )
    headers = [("Content-Type", "application/json"), *platform_headers(request.request_id)]
    headers.append(("x-amzn-ErrorType", error_type))
    if configured is None:
        return ApiResponse(status, headers, json.dumps({"message": message}).encode())
    if configured.get("StatusCode"):
        status = int(configured["StatusCode"])
    for key, value in configured.get("ResponseParameters", {}).items():
        text = str(value)
        if key.startswith("gatewayresponse.header.") and len(text) >= 2 and text[0] == text[-1] == "'":
            headers.append((key.removeprefix("gatewayresponse.header."), text[1:-1]))
    templates = configured.get("ResponseTemplates") or {}
    template = templates.get("application/json") or next(iter(templates.values()), None)
    if template is None:
        body = json.dumps({"message": message})
    else:
        body = _render_template(
            str(template), _template_context(request, api, response_type, message, validation, account_id)
        )
    return ApiResponse(status, headers, body.encode())


def _template_context(
    request: ApiRequest, api: RestApi | None, response_type: str, message: str, validation: str, account_id: str
) -> dict[str, str]:
    stage = request.stage or (api.default_stage if api else "")
    now = datetime.now(UTC)
    return {
        "context.error.message": message,
        "context.error.messageString": json.dumps(message),
        "context.error.validationErrorString": json.dumps(validation)[1:-1],
        "context.error.responseType": response_type,
        "context.requestId": request.request_id,
        "context.extendedRequestId": request.request_id,
        "context.path": f"/{stage}{unquote(request.path)}",
        "context.stage": stage,
        "context.httpMethod": request.method,
        "context.resourcePath": request.resource_path or "",
        "context.domainName": request.host,
        "context.apiId": api.api_id if api else "",
        "context.accountId": account_id,
        "context.identity.sourceIp": request.source_ip,
        "context.identity.userAgent": request.header("user-agent") or "",
        "context.requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "context.requestTimeEpoch": str(int(now.timestamp() * 1000)),
    }


_TEMPLATE_VARIABLE = re.compile(r"\$!?\{?(context(?:\.[A-Za-z][A-Za-z0-9]*)+)\}?")


def _render_template(template: str, context: dict[str, str]) -> str:
    """The part of VTL gateway response templates use: `$context.…` references."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        while name not in context and "." in name:
            name = name.rsplit(".", 1)[0]  # `$context.path.` style trailing text
        value = context.get(name)
        if value is None:
            return ""
        return value + match.group(1)[len(name) :]

    return _TEMPLATE_VARIABLE.sub(replace, template)


def mock_response(method: ApiMethod, request_id: str) -> ApiResponse:
    """MOCK integrations (CORS preflight) answer with their default integration response."""
    responses = method.integration.get("IntegrationResponses", [])
    chosen = next((r for r in responses if not r.get("SelectionPattern")), responses[0] if responses else {})
    headers = platform_headers(request_id)
    for key, value in chosen.get("ResponseParameters", {}).items():
        if key.startswith("method.response.header."):
            text = str(value)
            if len(text) >= 2 and text[0] == text[-1] == "'":
                headers.append((key.removeprefix("method.response.header."), text[1:-1]))
    body = ""
    templates = chosen.get("ResponseTemplates", {})
    if isinstance(templates, dict) and templates:
        body = str(next(iter(templates.values())))
    headers.append(("Content-Type", "application/json"))
    return ApiResponse(int(chosen.get("StatusCode", 200)), headers, body.encode())
