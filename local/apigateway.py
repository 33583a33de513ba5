"""The REST API data plane that moto lacks: routes from the template, Lambda proxy integration.

Routes are the template's `AWS::ApiGateway::Resource` tree and `AWS::ApiGateway::Method`s, so
the local API is exactly the deployed one (local.apigateway_routes). Requests become API
Gateway's proxy event (version 1.0) and the function's answer is mapped back as API Gateway maps
it (local.apigateway_proxy), including its error answers (local.apigateway_errors: 403 for an
unknown route, 502 for a failed or malformed function response). local.apigateway_server serves
it on a port, with the mounts of local.apigateway_http beside it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.apigateway_errors import gateway_error, mock_response
from local.apigateway_http import ApiRequest, ApiResponse, MountHandler, header_maps
from local.apigateway_proxy import map_response, proxy_event
from local.apigateway_routes import ApiMethod, ApiResource, RestApi
from local.functions import InvocationResult
from local.limits import RequestEntityTooLarge

log = logging.getLogger(__name__)

DEFAULT_INTEGRATION_TIMEOUT_MS = 29_000


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
        single, multi = header_maps(headers)
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
            return mock_response(api_method, request.request_id)
        if kind != "AWS_PROXY" or api_method.function_name is None:
            self._warn_once(kind, f"integration type {kind or 'none'} is not served by the local API")
            return self.error("API_CONFIGURATION_ERROR", request, api)
        event = proxy_event(api, stage, resource, path_params, request, self.account_id)
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
            return map_response(result, request.request_id)
        except (ValueError, TypeError) as error:
            log.warning(
                "function %s returned a malformed Lambda proxy response (%s): answering 502", function_name, error
            )
            return self.error("DEFAULT_5XX", request, api)

    # -- API Gateway's own answers (local.apigateway_errors) ----------------------------------

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
        api = api or (self.apis[0] if self.apis else None)
        return gateway_error(
            response_type, request, api, self.account_id, status=status, message=message, validation=validation
        )

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
