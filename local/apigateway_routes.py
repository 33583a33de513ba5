"""The REST API's routes, read from the template's `AWS::ApiGateway::Resource` tree and `Method`s.

Literal path parts beat `{param}`s, which beat a greedy `{proxy+}`; ANY matches every method.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from local.provisioned import ProvisionedResource

log = logging.getLogger("local.apigateway")

LAMBDA_URI = re.compile(r":lambda:path/[^/]+/functions/(arn:[^/]+)/invocations")
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
