"""AWS::ApiGateway::*: the control plane mirrored in moto; the data plane is local.apigateway."""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from local.provisioned import ProvisionedResource
from local.provisioners.common import text, text_map, uuid_for

if TYPE_CHECKING:
    from local.provision import Provisioner

log = logging.getLogger("local.provision")

SAFE_API_NAME = re.compile(r"[^A-Za-z0-9]")


def rest_api(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    if "Body" in props or "BodyS3Location" in props:
        log.warning("REST API %s is defined by an OpenAPI body; only Resource/Method routes are served", logical_id)
    request: dict[str, Any] = {"name": props.get("Name", logical_id)}
    if props.get("Description"):
        request["description"] = props["Description"]
    if props.get("BinaryMediaTypes"):
        request["binaryMediaTypes"] = props["BinaryMediaTypes"]
    apigateway = provisioner.client("apigateway")
    api_id = apigateway.create_rest_api(**request)["id"]
    root = next(item["id"] for item in apigateway.get_resources(restApiId=api_id)["items"] if item["path"] == "/")
    return ProvisionedResource(
        logical_id, "AWS::ApiGateway::RestApi", api_id, {"RootResourceId": root, "RestApiId": api_id}
    )


def api_resource(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    resource_id = provisioner.client("apigateway").create_resource(
        restApiId=props["RestApiId"], parentId=props["ParentId"], pathPart=props["PathPart"]
    )["id"]
    return ProvisionedResource(logical_id, "AWS::ApiGateway::Resource", resource_id, {"ResourceId": resource_id})


def api_method(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    apigateway = provisioner.client("apigateway")
    api_id, resource_id, method = props["RestApiId"], props["ResourceId"], props["HttpMethod"]
    try:
        apigateway.put_method(
            restApiId=api_id,
            resourceId=resource_id,
            httpMethod=method,
            authorizationType=props.get("AuthorizationType", "NONE"),
        )
        integration = props.get("Integration", {})
        if integration.get("Type"):
            request = {"type": integration["Type"]}
            if integration.get("Uri"):
                request["uri"] = integration["Uri"]
            if integration.get("IntegrationHttpMethod"):
                request["integrationHttpMethod"] = integration["IntegrationHttpMethod"]
            apigateway.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=method, **request)
    except Exception as error:  # the control-plane mirror is a convenience; routing does not need it
        log.debug("API method %s not mirrored in moto: %s", logical_id, error)
    return ProvisionedResource(logical_id, "AWS::ApiGateway::Method", f"{api_id}-{resource_id}-{method}", {})


def api_deployment(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    deployment_id = uuid_for(provisioner.stack.stack_name, logical_id).replace("-", "")[:10]
    try:
        request: dict[str, Any] = {"restApiId": props["RestApiId"]}
        if props.get("StageName"):
            request["stageName"] = props["StageName"]
        deployment_id = provisioner.client("apigateway").create_deployment(**request)["id"]
    except Exception as error:
        log.debug("API deployment %s not mirrored in moto: %s", logical_id, error)
    return ProvisionedResource(
        logical_id, "AWS::ApiGateway::Deployment", deployment_id, {"DeploymentId": deployment_id}
    )


def api_stage(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    try:
        provisioner.client("apigateway").create_stage(
            restApiId=props["RestApiId"],
            stageName=props["StageName"],
            deploymentId=props["DeploymentId"],
            variables={key: text(value) for key, value in props.get("Variables", {}).items()},
        )
    except Exception as error:
        log.debug("API stage %s not mirrored in moto: %s", logical_id, error)
    return ProvisionedResource(logical_id, "AWS::ApiGateway::Stage", props["StageName"], {})


def api_model(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    name = props.get("Name") or SAFE_API_NAME.sub("", logical_id)
    try:
        schema = props.get("Schema", {})
        provisioner.client("apigateway").create_model(
            restApiId=props["RestApiId"],
            name=name,
            contentType=props.get("ContentType", "application/json"),
            schema=schema if isinstance(schema, str) else json.dumps(schema),
        )
    except Exception as error:
        log.debug("API model %s not mirrored in moto: %s", logical_id, error)
    return ProvisionedResource(logical_id, "AWS::ApiGateway::Model", name, {})


def api_gateway_response(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    # The local API shapes its own errors with these (local.apigateway); moto keeps a copy.
    request: dict[str, Any] = {"restApiId": props["RestApiId"], "responseType": props["ResponseType"]}
    if props.get("StatusCode"):
        request["statusCode"] = str(props["StatusCode"])
    if props.get("ResponseParameters"):
        request["responseParameters"] = text_map(props["ResponseParameters"])
    if props.get("ResponseTemplates"):
        request["responseTemplates"] = text_map(props["ResponseTemplates"])
    try:
        provisioner.client("apigateway").put_gateway_response(**request)
    except Exception as error:
        log.debug("gateway response %s not mirrored in moto: %s", logical_id, error)
    return ProvisionedResource(
        logical_id, "AWS::ApiGateway::GatewayResponse", f"{props['RestApiId']}-{props['ResponseType']}", {}
    )


def api_validator(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    validator_id = uuid_for(provisioner.stack.stack_name, logical_id).replace("-", "")[:6]
    try:
        validator_id = provisioner.client("apigateway").create_request_validator(
            restApiId=props["RestApiId"],
            name=props.get("Name", logical_id),
            validateRequestBody=bool(props.get("ValidateRequestBody", False)),
            validateRequestParameters=bool(props.get("ValidateRequestParameters", False)),
        )["id"]
    except Exception as error:
        log.debug("API request validator %s not mirrored in moto: %s", logical_id, error)
    return ProvisionedResource(
        logical_id, "AWS::ApiGateway::RequestValidator", validator_id, {"RequestValidatorId": validator_id}
    )


PROVISIONERS = {
    "AWS::ApiGateway::RestApi": rest_api,
    "AWS::ApiGateway::Resource": api_resource,
    "AWS::ApiGateway::Method": api_method,
    "AWS::ApiGateway::Deployment": api_deployment,
    "AWS::ApiGateway::Stage": api_stage,
    "AWS::ApiGateway::Model": api_model,
    "AWS::ApiGateway::GatewayResponse": api_gateway_response,
    "AWS::ApiGateway::RequestValidator": api_validator,
}
