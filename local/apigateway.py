"""The REST API data plane that moto lacks: routes from the template, Lambda proxy integration.

Routes are the template's `AWS::ApiGateway::Resource` tree and `AWS::ApiGateway::Method`s, so
the local API is exactly the deployed one: literal path parts beat `{param}`s, which beat a
greedy `{proxy+}`; ANY matches every method. Requests become API Gateway's proxy event
(version 1.0) and the function's answer is mapped back as API Gateway maps it, including its
error answers (403 for an unknown route, 502 for a failed or malformed function response).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import mimetypes
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.functions import InvocationResult
from local.limits import RequestEntityTooLarge
from local.provision import ProvisionedResource

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000
PROXY_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
LAMBDA_URI = re.compile(r":lambda:path/[^/]+/functions/(arn:[^/]+)/invocations")
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
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass
class ApiMethod:
    logical_id: str
    http_method: str
    integration: dict[str, Any]
    authorization_type: str = "NONE"
    function_name: str | None = None
    validate_body: bool = False
    validate_parameters: bool = False
    request_models: dict[str, Any] = field(default_factory=dict)  # content type -> JSON schema
    request_parameters: dict[str, bool] = field(default_factory=dict)

    @property
    def integration_type(self) -> str:
        return str(self.integration.get("Type", ""))


@dataclass
class ApiResource:
    resource_id: str
    path_part: str
    path: str
    children: list[ApiResource] = field(default_factory=list)
    methods: dict[str, ApiMethod] = field(default_factory=dict)

    @property
    def is_greedy(self) -> bool:
        return self.path_part.startswith("{") and self.path_part.endswith("+}")

    @property
    def is_parameter(self) -> bool:
        return self.path_part.startswith("{") and self.path_part.endswith("}") and not self.is_greedy

    @property
    def parameter_name(self) -> str:
        return self.path_part.strip("{}").rstrip("+")

    def method_for(self, http_method: str) -> ApiMethod | None:
        return self.methods.get(http_method) or self.methods.get("ANY")


@dataclass
class Route:
    method: str
    path: str
    function_name: str | None
    integration_type: str


@dataclass
class RestApi:
    logical_id: str
    api_id: str
    name: str
    root: ApiResource
    stages: dict[str, dict[str, str]]  # stage name -> stage variables
    binary_media_types: list[str]
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)  # ResponseType -> properties

    @property
    def default_stage(self) -> str:
        return next(iter(self.stages), "prod")

    def match(self, path: str) -> tuple[ApiResource, dict[str, str]] | None:
        segments = [unquote(part) for part in path.split("/") if part]
        fallback: list[tuple[ApiResource, dict[str, str]]] = []

        def walk(node: ApiResource, index: int, params: dict[str, str]) -> tuple[ApiResource, dict[str, str]] | None:
            if index == len(segments):
                if node.methods:
                    return node, params
                fallback.append((node, params))
                return None
            segment = segments[index]
            ordered = [
                c for c in node.children if not c.is_parameter and not c.is_greedy and c.path_part == segment
            ] + [c for c in node.children if c.is_parameter]
            for child in ordered:
                child_params = {**params, child.parameter_name: segment} if child.is_parameter else params
                found = walk(child, index + 1, child_params)
                if found:
                    return found
            for child in node.children:
                if child.is_greedy:
                    greedy = {**params, child.parameter_name: "/".join(segments[index:])}
                    if child.methods:
                        return child, greedy
                    fallback.append((child, greedy))
            return None

        return walk(self.root, 0, {}) or (fallback[0] if fallback else None)

    def routes(self) -> list[Route]:
        found: list[Route] = []

        def walk(node: ApiResource) -> None:
            for method in sorted(node.methods.values(), key=lambda m: m.http_method):
                found.append(Route(method.http_method, node.path, method.function_name, method.integration_type))
            for child in sorted(node.children, key=lambda c: c.path_part):
                walk(child)

        walk(self.root)
        return found


def build_rest_apis(resources: dict[str, ProvisionedResource]) -> list[RestApi]:
    """The APIs of the stack, assembled from provisioned (resolved) API Gateway resources."""
    by_type: dict[str, list[ProvisionedResource]] = {}
    for resource in resources.values():
        if resource.emulated:
            by_type.setdefault(resource.type, []).append(resource)
    validators = {str(r.physical_id): r.properties for r in by_type.get("AWS::ApiGateway::RequestValidator", [])}
    models = {str(r.physical_id): r.properties for r in by_type.get("AWS::ApiGateway::Model", [])}
    apis: list[RestApi] = []
    for api_resource in by_type.get("AWS::ApiGateway::RestApi", []):
        api_id = str(api_resource.physical_id)
        root = ApiResource(str(api_resource.attributes["RootResourceId"]), "", "/")
        nodes = {root.resource_id: root}
        pending = [r for r in by_type.get("AWS::ApiGateway::Resource", []) if r.properties.get("RestApiId") == api_id]
        while pending:
            placed = [r for r in pending if r.properties.get("ParentId") in nodes]
            if not placed:
                log.warning("API %s: resources with unknown parents: %s", api_id, [r.logical_id for r in pending])
                break
            for item in placed:
                parent = nodes[item.properties["ParentId"]]
                part = str(item.properties["PathPart"])
                node = ApiResource(str(item.physical_id), part, parent.path.rstrip("/") + "/" + part)
                parent.children.append(node)
                nodes[node.resource_id] = node
                pending.remove(item)
        for item in by_type.get("AWS::ApiGateway::Method", []):
            props = item.properties
            if props.get("RestApiId") != api_id or props.get("ResourceId") not in nodes:
                continue
            method = _method(item, validators, models)
            nodes[props["ResourceId"]].methods[method.http_method] = method
        stages: dict[str, dict[str, str]] = {}
        for item in by_type.get("AWS::ApiGateway::Stage", []):
            if item.properties.get("RestApiId") == api_id:
                stages[str(item.properties["StageName"])] = {
                    k: str(v) for k, v in item.properties.get("Variables", {}).items()
                }
        for item in by_type.get("AWS::ApiGateway::Deployment", []):
            if item.properties.get("RestApiId") == api_id and item.properties.get("StageName"):
                stages.setdefault(str(item.properties["StageName"]), {})
        gateway_responses = {
            str(item.properties["ResponseType"]): item.properties
            for item in by_type.get("AWS::ApiGateway::GatewayResponse", [])
            if item.properties.get("RestApiId") == api_id and item.properties.get("ResponseType")
        }
        apis.append(
            RestApi(
                logical_id=api_resource.logical_id,
                api_id=api_id,
                name=str(api_resource.properties.get("Name", api_resource.logical_id)),
                root=root,
                stages=stages,
                binary_media_types=list(api_resource.properties.get("BinaryMediaTypes", [])),
                gateway_responses=gateway_responses,
            )
        )
    return apis


def _method(
    item: ProvisionedResource, validators: dict[str, dict[str, Any]], models: dict[str, dict[str, Any]]
) -> ApiMethod:
    props = item.properties
    integration = props.get("Integration", {})
    function_name = None
    match = LAMBDA_URI.search(str(integration.get("Uri", "")))
    if match:
        function_name = match.group(1).split(":function:", 1)[-1].split(":")[0]
    validator = validators.get(str(props.get("RequestValidatorId", "")), {})
    request_models = {}
    for content_type, model_name in props.get("RequestModels", {}).items():
        model = models.get(str(model_name))
        if model is not None:
            schema = model.get("Schema", {})
            request_models[content_type] = json.loads(schema) if isinstance(schema, str) else schema
    return ApiMethod(
        logical_id=item.logical_id,
        http_method=str(props.get("HttpMethod", "ANY")).upper(),
        integration=integration,
        authorization_type=str(props.get("AuthorizationType", "NONE")),
        function_name=function_name,
        validate_body=bool(validator.get("ValidateRequestBody", False)),
        validate_parameters=bool(validator.get("ValidateRequestParameters", False)),
        request_models=request_models,
        request_parameters={str(k): bool(v) for k, v in props.get("RequestParameters", {}).items()},
    )


@dataclass
class ApiRequest:
    method: str
    path: str
    headers: dict[str, str]
    multi_headers: dict[str, list[str]]
    query: list[tuple[str, str]]
    body: bytes
    source_ip: str
    host: str
    request_id: str
    stage: str = ""
    resource_path: str = ""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


@dataclass
class ApiResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


# A mounted handler answers every request under its path prefix on the API's port, before (and
# instead of) the template's routes: extra pages or tools beside the API. Not part of the API:
# no authorization, validation, gateway responses or metering apply to it.
MountHandler = Callable[[ApiRequest], ApiResponse]


def static_files(directory: str | Path, prefix: str) -> MountHandler:
    """A mount serving the files of `directory` at `prefix/` (GET, HEAD); `prefix` itself
    redirects to `prefix/`, which serves index.html. Nothing outside the directory is served."""
    root = Path(directory).resolve()
    prefix = "/" + prefix.strip("/")

    def serve(request: ApiRequest) -> ApiResponse:
        if request.method not in ("GET", "HEAD"):
            return ApiResponse(405, [("Allow", "GET, HEAD"), ("Content-Type", "text/plain")], b"method not allowed")
        if request.path == prefix:
            return ApiResponse(301, [("Location", prefix + "/")], b"")
        relative = unquote(request.path[len(prefix) :]).lstrip("/") or "index.html"
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return ApiResponse(404, [("Content-Type", "text/plain")], b"not found")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
            content_type += "; charset=utf-8"
        headers = [("Content-Type", content_type), ("Cache-Control", "no-cache"), ("X-Content-Type-Options", "nosniff")]
        return ApiResponse(200, headers, path.read_bytes())

    return serve


class ApiGateway:
    """Turns HTTP requests into proxy events and function results into HTTP responses."""

    def __init__(
        self,
        apis: list[RestApi],
        invoke: Callable[[str, dict[str, Any]], InvocationResult],
        *,
        account_id: str,
    ) -> None:
        self.apis = apis
        self._invoke = invoke
        self.account_id = account_id
        self._executor = ThreadPoolExecutor(64, thread_name_prefix="apigw-invoke")
        self._warned: set[str] = set()
        self._validators: dict[int, Any] = {}
        self.mounts: dict[str, MountHandler] = {}  # path prefix -> handler (see `mount`)
        try:
            import jsonschema

            self._jsonschema: Any = jsonschema
        except ImportError:  # pragma: no cover - jsonschema ships with moto[server] and cfn-lint
            self._jsonschema = None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def mount(self, prefix: str, handler: MountHandler | None) -> None:
        """Serve `prefix` and everything under it with `handler` (None unmounts)."""
        prefix = "/" + prefix.strip("/")
        if prefix == "/":
            raise ValueError("a mount needs a path prefix, not /")
        if handler is None:
            self.mounts.pop(prefix, None)
        else:
            self.mounts[prefix] = handler

    def mounted(self, raw_path: str) -> MountHandler | None:
        path = urlsplit(raw_path).path
        for prefix, handler in self.mounts.items():
            if path == prefix or path.startswith(prefix + "/"):
                return handler
        return None

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message)

    def _locate(self, path: str) -> tuple[RestApi, str, ApiResource, dict[str, str]] | None:
        segments = [part for part in path.split("/") if part]
        for api in self.apis:
            if segments and segments[0] in api.stages:
                found = api.match("/" + "/".join(segments[1:]))
                if found:
                    return api, segments[0], found[0], found[1]
            found = api.match(path)
            if found:
                return api, api.default_stage, found[0], found[1]
        return None

    def handle(
        self,
        method: str,
        raw_path: str,
        headers: list[tuple[str, str]],
        body: bytes,
        *,
        source_ip: str,
        host: str,
    ) -> ApiResponse:
        split = urlsplit(raw_path)
        single, multi = _header_maps(headers)
        request = ApiRequest(
            method=method,
            path=split.path or "/",
            headers=single,
            multi_headers=multi,
            query=parse_qsl(split.query, keep_blank_values=True),
            body=body,
            source_ip=source_ip,
            host=host,
            request_id=str(uuid.uuid4()),
        )
        located = self._locate(request.path)
        if located is None:
            return self.error("MISSING_AUTHENTICATION_TOKEN", request)
        api, stage, resource, path_params = located
        request.stage, request.resource_path = stage, resource.path
        api_method = resource.method_for(method)
        if api_method is None:
            log.info(
                "%s %s: resource %s has no %s method (has: %s)",
                method,
                request.path,
                resource.path,
                method,
                ", ".join(sorted(resource.methods)) or "none",
            )
            return self.error("MISSING_AUTHENTICATION_TOKEN", request, api)
        if api_method.authorization_type not in ("NONE", ""):
            self._warn_once(
                api_method.authorization_type,
                f"{api_method.authorization_type} authorization is not enforced by the local API; "
                "unsigned requests are accepted",
            )
        problem = self._validate(api_method, request)
        if problem is not None:
            response_type, message, validation = problem
            return self.error(response_type, request, api, message=message, validation=validation)
        kind = api_method.integration_type
        if kind == "MOCK":
            return _mock_response(api_method, request.request_id)
        if kind != "AWS_PROXY" or api_method.function_name is None:
            self._warn_once(kind, f"integration type {kind or 'none'} is not served by the local API")
            return self.error("API_CONFIGURATION_ERROR", request, api)
        event = self._proxy_event(api, stage, resource, path_params, request)
        return self._call(api, api_method, api_method.function_name, event, request)

    def _call(
        self, api: RestApi, method: ApiMethod, function_name: str, event: dict[str, Any], request: ApiRequest
    ) -> ApiResponse:
        timeout = int(method.integration.get("TimeoutInMillis", DEFAULT_INTEGRATION_TIMEOUT_MS)) / 1000
        future = self._executor.submit(self._invoke, function_name, event)
        try:
            result = future.result(timeout=timeout)
        except FutureTimeout:
            return self.error("INTEGRATION_TIMEOUT", request, api)
        except RequestEntityTooLarge:  # the proxy event is over Lambda's 6 MB
            return self.error("REQUEST_TOO_LARGE", request, api)
        except Exception:
            log.exception("invoking %s failed", function_name)
            return self.error("DEFAULT_5XX", request, api, status=500)
        if result.errored:
            log.info("function %s failed (%s): answering 502", function_name, result.error_type)
            return self.error("DEFAULT_5XX", request, api)
        try:
            return self._map_response(result, request.request_id)
        except (ValueError, TypeError) as error:
            log.warning(
                "function %s returned a malformed Lambda proxy response (%s): answering 502", function_name, error
            )
            return self.error("DEFAULT_5XX", request, api)

    # -- API Gateway's own answers -------------------------------------------------------

    def error(
        self,
        response_type: str,
        request: ApiRequest,
        api: RestApi | None = None,
        *,
        status: int | None = None,
        message: str | None = None,
        validation: str = "",
    ) -> ApiResponse:
        """An error API Gateway itself answers, shaped by the API's GatewayResponses if it has them."""
        default_status, default_message, error_type = GATEWAY_ERRORS[response_type]
        status = status or default_status
        message = message or default_message
        api = api or (self.apis[0] if self.apis else None)
        configured = None
        if api is not None:
            configured = api.gateway_responses.get(response_type) or api.gateway_responses.get(
                "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
            )
        headers = [("Content-Type", "application/json"), *_platform_headers(request.request_id)]
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
                str(template), self._template_context(request, api, response_type, message, validation)
            )
        return ApiResponse(status, headers, body.encode())

    def _template_context(
        self, request: ApiRequest, api: RestApi | None, response_type: str, message: str, validation: str
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
            "context.accountId": self.account_id,
            "context.identity.sourceIp": request.source_ip,
            "context.identity.userAgent": request.header("user-agent") or "",
            "context.requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "context.requestTimeEpoch": str(int(now.timestamp() * 1000)),
        }

    # -- validation ----------------------------------------------------------------------

    def _validate(self, method: ApiMethod, request: ApiRequest) -> tuple[str, str | None, str] | None:
        """(gateway response type, message, validationErrorString) when the request validator refuses."""
        missing = self._missing_parameters(method, request)
        if missing is not None:
            return "BAD_REQUEST_PARAMETERS", missing, missing
        invalid = self._invalid_body(method, request)
        if invalid is not None:
            return "BAD_REQUEST_BODY", None, invalid
        return None

    @staticmethod
    def _missing_parameters(method: ApiMethod, request: ApiRequest) -> str | None:
        if not (method.validate_parameters and method.request_parameters):
            return None
        lowered = {key.lower() for key in request.headers}
        present_query = {key for key, _ in request.query}
        missing = []
        for name, required in method.request_parameters.items():
            parts = name.split(".")
            if not required or len(parts) < 4:
                continue
            where, param = parts[2], ".".join(parts[3:])
            if (where == "querystring" and param not in present_query) or (
                where == "header" and param.lower() not in lowered
            ):
                missing.append(param)
        return f"Missing required request parameters: [{', '.join(missing)}]" if missing else None

    def _invalid_body(self, method: ApiMethod, request: ApiRequest) -> str | None:
        """What is wrong with the body (API Gateway's validationErrorString), or None."""
        if not (method.validate_body and method.request_models):
            return None
        content_type = request.header("content-type") or "application/json"
        content_type = content_type.split(";", 1)[0].strip().lower() or "application/json"
        schema = method.request_models.get(content_type) or method.request_models.get("$default")
        if schema is None:
            schema = method.request_models.get("application/json")
        if schema is None:
            return None
        if self._jsonschema is None:
            self._warn_once("jsonschema", "jsonschema is not installed; request bodies are not validated")
            return None
        try:
            document = json.loads(request.body.decode("utf-8") or "null")
        except ValueError as error:
            return f"[Invalid JSON: {error}]"
        validator = self._validators.get(id(schema))
        if validator is None:
            validator = self._jsonschema.Draft4Validator(schema)
            self._validators[id(schema)] = validator
        problems = [error.message for error in validator.iter_errors(document)]
        return f"[{', '.join(problems)}]" if problems else None

    # -- proxy event and response --------------------------------------------------------

    def _proxy_event(
        self, api: RestApi, stage: str, resource: ApiResource, path_params: dict[str, str], request: ApiRequest
    ) -> dict[str, Any]:
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
                "accountId": self.account_id,
                "protocol": "HTTP/1.1",
                "stage": stage,
                "domainPrefix": request.host.split(".", 1)[0].split(":", 1)[0],
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": request.request_id,
                "identity": {
                    "cognitoIdentityPoolId": None,
                    "accountId": self.account_id if access_key else None,
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

    @staticmethod
    def _map_response(result: InvocationResult, request_id: str) -> ApiResponse:
        """The function's proxy response as HTTP; ValueError/TypeError when it is malformed."""
        status, headers, body = _parse_proxy_response(json.loads(result.payload))
        headers += _platform_headers(request_id)
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


def _header_maps(headers: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _is_binary(content_type: str, binary_media_types: list[str]) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    for configured in binary_media_types:
        pattern = configured.replace("~1", "/").lower()
        if pattern in ("*/*", kind) or (pattern.endswith("/*") and kind.startswith(pattern[:-1])):
            return True
    return False


def _platform_headers(request_id: str) -> list[tuple[str, str]]:
    return [
        ("x-amzn-RequestId", request_id),
        ("x-amz-apigw-id", base64.b64encode(uuid.uuid4().bytes[:6]).decode().rstrip("=")),
        ("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0"),
    ]


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


def _mock_response(method: ApiMethod, request_id: str) -> ApiResponse:
    """MOCK integrations (CORS preflight) answer with their default integration response."""
    responses = method.integration.get("IntegrationResponses", [])
    chosen = next((r for r in responses if not r.get("SelectionPattern")), responses[0] if responses else {})
    headers = _platform_headers(request_id)
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


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LocalApiGateway"
    sys_version = ""
    server: _ApiServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("api %s - " + format, self.address_string(), *args)

    def _own_address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                if total > MAX_REQUEST_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            return None
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        started = time.monotonic()
        body = self._read_body()
        if body is None:
            request = ApiRequest(
                self.command,
                self.path.split("?", 1)[0],
                {},
                {},
                [],
                b"",
                self.client_address[0],
                self.headers.get("Host") or self._own_address(),
                str(uuid.uuid4()),
            )
            response = self.server.gateway.error("REQUEST_TOO_LARGE", request)
            self.close_connection = True
        elif (mount := self.server.gateway.mounted(self.path)) is not None:
            response = self._mounted(mount, body)
        else:
            try:
                response = self.server.gateway.handle(
                    self.command,
                    self.path,
                    list(self.headers.items()),
                    body,
                    source_ip=self.client_address[0],
                    host=self.headers.get("Host") or self._own_address(),
                )
            except Exception:
                log.exception("the local API failed on %s %s", self.command, self.path)
                response = ApiResponse(500, [("Content-Type", "application/json")], json.dumps(INTERNAL_ERROR).encode())
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        payload = b"" if self.command == "HEAD" else response.body
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(payload)
        log.info("%s %s -> %d (%.0f ms)", self.command, self.path, response.status, (time.monotonic() - started) * 1000)

    def _mounted(self, mount: MountHandler, body: bytes) -> ApiResponse:
        split = urlsplit(self.path)
        single, multi = _header_maps(list(self.headers.items()))
        request = ApiRequest(
            method=self.command,
            path=split.path,
            headers=single,
            multi_headers=multi,
            query=parse_qsl(split.query, keep_blank_values=True),
            body=body,
            source_ip=self.client_address[0],
            host=self.headers.get("Host") or self._own_address(),
            request_id=str(uuid.uuid4()),
        )
        try:
            return mount(request)
        except Exception:
            log.exception("the handler mounted for %s failed", self.path)
            return ApiResponse(500, [("Content-Type", "application/json")], json.dumps(INTERNAL_ERROR).encode())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class _ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], gateway: ApiGateway) -> None:
        self.gateway = gateway
        super().__init__(address, _RequestHandler)


class LocalApiServer:
    """Serves an `ApiGateway` on 127.0.0.1 in a background thread."""

    def __init__(self, gateway: ApiGateway, host: str = "127.0.0.1", port: int = 0) -> None:
        self.gateway = gateway
        self._server = _ApiServer((host, port), gateway)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-api", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.gateway.close()
