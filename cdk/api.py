"""The REST API: IAM-authorized, validated, throttled and access-logged.

Authorization is AWS_IAM (SigV4) on every method: orderflow's callers are other services and
back-office tools holding AWS credentials, so IAM needs no user pool and composes with the
callers' existing roles. A customer-facing front end would add a Cognito authorizer.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from cdk.common import Shared

STAGE = "v1"
# API Gateway's own errors in the functions' error shape (functions/shared/http_errors.py):
# {"error": <snake_case code>, "message": <the gateway's message>, "details": [<problem>...]}.
GATEWAY_ERRORS: dict[str, tuple[apigw.ResponseType, str]] = {
    "Default4xx": (apigw.ResponseType.DEFAULT_4_XX, "client_error"),
    "Default5xx": (apigw.ResponseType.DEFAULT_5_XX, "gateway_error"),
    "BadRequestParameters": (apigw.ResponseType.BAD_REQUEST_PARAMETERS, "missing_parameter"),
    "BadRequestBody": (apigw.ResponseType.BAD_REQUEST_BODY, "malformed_body"),
    "MissingAuthenticationToken": (apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, "missing_authentication_token"),
    "AccessDenied": (apigw.ResponseType.ACCESS_DENIED, "access_denied"),
    "InvalidSignature": (apigw.ResponseType.INVALID_SIGNATURE, "invalid_signature"),
    "ExpiredToken": (apigw.ResponseType.EXPIRED_TOKEN, "expired_token"),
    "Throttled": (apigw.ResponseType.THROTTLED, "throttled"),
    "RequestTooLarge": (apigw.ResponseType.REQUEST_TOO_LARGE, "request_too_large"),
    "IntegrationTimeout": (apigw.ResponseType.INTEGRATION_TIMEOUT, "integration_timeout"),
}
# Only these two carry the gateway's validation text as a problem.
VALIDATING = ("missing_parameter", "malformed_body")


def error_template(code: str) -> str:
    details = []
    if code in VALIDATING:
        problem = {"field": "request", "location": "request", "type": code, "message": "$VALIDATION"}
        details.append(problem)
    body = json.dumps({"error": code, "message": "$MESSAGE", "details": details})
    # messageString is already a quoted JSON string; validationErrorString is not.
    return body.replace('"$MESSAGE"', "$context.error.messageString").replace(
        "$VALIDATION", "$context.error.validationErrorString"
    )


class ApiConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        orders_api: lambda_.IFunction,
        inventory_api: lambda_.IFunction,
        throttle_rate: int,
        throttle_burst: int,
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=shared.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{Stack.of(self).stack_name}-api",  # one per stage, told apart in the console
            description="orderflow: place orders and manage stock",
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            endpoint_types=[apigw.EndpointType.REGIONAL],
            min_compression_size=None,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # request bodies carry card tokens
                metrics_enabled=True,
                tracing_enabled=True,
                throttling_rate_limit=throttle_rate,
                throttling_burst_limit=throttle_burst,
            ),
            default_method_options=apigw.MethodOptions(authorization_type=apigw.AuthorizationType.IAM),
        )
        # Errors the gateway itself answers (auth, throttling, missing parameters) use the same
        # {"error", "message", "details"} shape as the functions' errors.
        for name, (response_type, code) in GATEWAY_ERRORS.items():
            self.api.add_gateway_response(
                name, type=response_type, templates={"application/json": error_template(code)}
            )
        # The gateway validates the request's parameters; bodies are validated by the functions'
        # pydantic models, the one definition of each body, whose errors name every failing field
        # (API Gateway's model errors do not say which field failed). See docs/decisions.md.
        validator = self.api.add_request_validator("Validator", validate_request_parameters=True)
        orders = apigw.LambdaIntegration(orders_api)
        inventory = apigw.LambdaIntegration(inventory_api)

        orders_resource = self.api.root.add_resource("orders")
        orders_resource.add_method(
            "POST",
            orders,
            request_validator=validator,
            request_parameters={"method.request.header.Idempotency-Key": False},
        )
        order = orders_resource.add_resource("{order_id}")
        order.add_method(
            "GET", orders, request_validator=validator, request_parameters={"method.request.path.order_id": True}
        )
        order.add_resource("timeline").add_method(
            "GET", orders, request_validator=validator, request_parameters={"method.request.path.order_id": True}
        )
        sku = self.api.root.add_resource("inventory").add_resource("{sku}")
        sku.add_method(
            "GET", inventory, request_validator=validator, request_parameters={"method.request.path.sku": True}
        )
        sku.add_method(
            "PUT",
            inventory,
            request_validator=validator,
            request_parameters={
                "method.request.path.sku": True,
                "method.request.header.If-Match": False,
                "method.request.header.If-None-Match": False,
            },
        )
        sku.add_resource("adjustments").add_method(
            "POST",
            inventory,
            request_validator=validator,
            # Not required here: the function answers a missing key with a 400 naming it, in the
            # API's error shape (the gateway's own 400 carries a string, not a list of fields).
            request_parameters={"method.request.path.sku": True, "method.request.header.Idempotency-Key": False},
        )
