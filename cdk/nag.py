"""cdk-nag AwsSolutions at synth: every finding is fixed or acknowledged here, on its own
construct, with the specific reason. Errors fail synthesis (cdk-nag 3.x validation plugin).
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, CfnElement, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

from cdk.common import ServiceFunction

XRAY = "AwsSolutions-IAM5[Resource::*]"


def apply_nag(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def _ack(construct: IConstruct, rule: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def _cfn(construct: IConstruct) -> CfnElement:
    child = construct.node.default_child
    assert isinstance(child, CfnElement)
    return child


def acknowledge(stack: Stack) -> None:
    from cdk.stack import OrderflowStack

    assert isinstance(stack, OrderflowStack)
    for construct in stack.node.find_all():
        if isinstance(construct, ServiceFunction):
            _ack(
                construct.role,
                XRAY,
                "xray:PutTraceSegments/PutTelemetryRecords support no resource-level permissions; "
                "the function's other statements are scoped to its own table, queue, bus and log group ARNs.",
            )
            _ack(
                construct.function,
                "AwsSolutions-L1",
                "Pinned to python3.13, the runtime the Powertools public layer version in cdk.json is "
                "resolved for; the code also runs on newer runtimes (context orderflow:powertoolsVersion).",
            )

    for state_machine, functions in (
        (stack.saga.state_machine, (stack.orders.tasks, stack.inventory.tasks, stack.payments.tasks)),
        (stack.payments.workflow, (stack.payments.tasks,)),
    ):
        _ack(
            state_machine.role,
            XRAY,
            "X-Ray tracing and CloudWatch Logs delivery (logs:CreateLogDelivery & co.) do not support "
            "resource-level permissions; every task permission is scoped to specific function ARNs.",
        )
        for fn in functions:
            _ack(
                state_machine.role,
                f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(_cfn(fn.function))}.Arn>:*]",
                "CDK's LambdaInvoke grants invoke on the function and its versions/aliases (ARN:*) so that a "
                "qualified invoke keeps working; the function itself is fixed.",
            )

    _ack(
        stack.notifications.consumer.role,
        "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
        "Publishing to the KMS-encrypted notifications topic needs GenerateDataKey* on that one key only.",
    )
    for queue, what in (
        (stack.bus.delivery_dlq, "EventBridge rule targets' dead-letter queue"),
        (stack.orders.relay_dlq, "the outbox relay stream mapping's on-failure destination"),
        (stack.saga.saga_dlq, "where sagas that could not finish park their input for a re-run"),
        (stack.payments.workflow_dlq, "where payment workflows that could not announce their failure park"),
    ):
        _ack(queue, "AwsSolutions-SQS3", f"This queue is itself a dead-letter queue: {what}; it is alarmed.")

    api = stack.api.api
    _ack(
        api.node.find_child("CloudWatchRole"),
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        "API Gateway's account-level logging role; AWS documents this managed policy as the one to use.",
    )
    _ack(
        api.deployment_stage,
        "AwsSolutions-APIG3",
        "Regional API with IAM (SigV4) authorization and stage throttling; a WAF web ACL is an account-level "
        "choice (cost, rules) documented in docs/operations.md rather than imposed by the template.",
    )
    _ack(
        api,
        "AwsSolutions-APIG2",
        "API Gateway validates every method's request parameters; request bodies are validated by the "
        "functions' pydantic models (the single definition of each body), whose 400/422 errors name each "
        "failing field, which API Gateway's model validation cannot (docs/decisions.md).",
    )
    for method in api.methods:
        _ack(
            method,
            "AwsSolutions-COG4",
            "Every method uses AWS_IAM authorization: callers are services holding AWS credentials "
            "(docs/decisions.md); a Cognito user pool would add nothing for them.",
        )
