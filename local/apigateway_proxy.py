"""Lambda proxy integration: a request as API Gateway's proxy event (1.0), the function's answer as HTTP.

The answer is mapped as API Gateway maps it: a malformed one raises, and the gateway answers 502.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from local.apigateway_http import ApiRequest, ApiResponse
from local.apigateway_routes import ApiResource, RestApi
from local.functions import InvocationResult

PROXY_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}


def proxy_event(
    api: RestApi,
    stage: str,
    resource: ApiResource,
    path_params: dict[str, str],
    request: ApiRequest,
    account_id: str,
) -> dict[str, Any]:
    """The request as API Gateway's Lambda proxy event (payload format 1.0)."""
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for key, value in request.query:
        query[key] = value
        multi_query.setdefault(key, []).append(value)
    body = request.body
    binary = bool(body) and _is_binary(request.header("content-type") or "", api.binary_media_types)
    now = datetime.now(UTC)
    access_key = None
    authorization = request.header("authorization") or ""
    if "Credential=" in authorization:
        access_key = authorization.split("Credential=", 1)[1].split("/", 1)[0]
    path = unquote(request.path)
    return {
        "resource": resource.path,
        "path": path,
        "httpMethod": request.method,
        "headers": request.headers or None,
        "multiValueHeaders": request.multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_params or None,
        "stageVariables": api.stages.get(stage) or None,
        "requestContext": {
            "resourceId": resource.resource_id,
            "resourcePath": resource.path,
            "httpMethod": request.method,
            "extendedRequestId": base64.b64encode(uuid.uuid4().bytes[:12]).decode().rstrip("="),
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path}",
            "accountId": account_id,
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": request.host.split(".", 1)[0].split(":", 1)[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request.request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": account_id if access_key else None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.source_ip,
                "principalOrgId": None,
                "accessKey": access_key,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": request.header("user-agent"),
                "user": None,
            },
            "domainName": request.host,
            "apiId": api.api_id,
        },
        "body": (base64.b64encode(body).decode() if binary else body.decode("utf-8", errors="replace"))
        if body
        else None,
        "isBase64Encoded": binary,
    }


def map_response(result: InvocationResult, request_id: str) -> ApiResponse:
    """The function's proxy response as HTTP; ValueError/TypeError when it is malformed."""
    status, headers, body = _parse_proxy_response(json.loads(result.payload))
    headers += platform_headers(request_id)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return ApiResponse(status, headers, body)


def _parse_proxy_response(payload: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    if not isinstance(payload, dict):
        raise TypeError("the response is not a JSON object")
    extra = set(payload) - PROXY_RESPONSE_KEYS
    if extra:
        raise TypeError(f"unexpected fields {sorted(extra)}")
    status = int(payload.get("statusCode", 200))
    if not 100 <= status <= 599:
        raise ValueError(f"status code {status}")
    headers: list[tuple[str, str]] = []
    single = payload.get("headers") or {}
    multi = payload.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise TypeError("headers must be objects")
    for name, value in single.items():
        if isinstance(value, (dict, list)):
            raise TypeError(f"header {name} is not a string")
        headers.append((str(name), _header_text(value)))
    for name, values in multi.items():
        if not isinstance(values, list):
            raise TypeError(f"multiValueHeaders.{name} is not a list")
        headers.extend((str(name), _header_text(value)) for value in values)
    body = payload.get("body")
    if body is not None and not isinstance(body, str):
        raise TypeError("body must be a string")
    raw = (body or "").encode("utf-8")
    if payload.get("isBase64Encoded") and body:
        raw = base64.b64decode(body)
    return status, headers, raw


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _is_binary(content_type: str, binary_media_types: list[str]) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    for configured in binary_media_types:
        pattern = configured.replace("~1", "/").lower()
        if pattern in ("*/*", kind) or (pattern.endswith("/*") and kind.startswith(pattern[:-1])):
            return True
    return False


def platform_headers(request_id: str) -> list[tuple[str, str]]:
    return [
        ("x-amzn-RequestId", request_id),
        ("x-amz-apigw-id", base64.b64encode(uuid.uuid4().bytes[:6]).decode().rstrip("=")),
        ("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"),
    ]
