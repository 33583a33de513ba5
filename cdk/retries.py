"""How every Lambda task of the saga and the payment workflow is invoked and retried.

Business outcomes (out of stock, declined) are results that a Choice reads; only technical
failures are errors. Those are retried with exponential backoff and jitter, then caught by
the caller's compensation. Every task is idempotent, so a retry after a timeout is safe.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

# The Lambda service errors AWS recommends retrying for every Lambda task.
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
# Our own transient failures (exception class names, which Lambda reports as errorType),
# and timeouts: a task that timed out may have done its work, which idempotency absorbs.
TRANSIENT_ERRORS = [
    "PaymentProviderUnavailable",
    "ChargeDeadlineExceeded",  # authorize answered after the task timed out: nothing captured
    "InjectedFault",
    "ServiceOutage",
    "PublishError",  # EventBridge refused an entry; the step re-announces on retry
    "PaymentContention",  # a concurrent write to the same payment won the condition
    "ReservationContention",
    "TransactionCanceledException",  # DynamoDB transaction conflict
    "TransactionConflictException",  # a single write met an item a transaction holds
    "LostResponse",  # the step committed and its answer was lost (fault injection)
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Sandbox.Timedout",
    "States.Timeout",
]
TASK_TIMEOUT = Duration.seconds(8)
# How long after it starts a charge may still begin its capture: the task timeout less a margin,
# so that no capture lands once Step Functions stopped waiting for the answer.
CHARGE_BUDGET_MS = int(TASK_TIMEOUT.to_milliseconds()) - 1000
# What a direct DynamoDB task retries (the SDK's transient errors, as Step Functions names them).
DYNAMODB_TRANSIENT_ERRORS = [
    "DynamoDB.AmazonDynamoDBException",
    "DynamoDB.InternalServerErrorException",
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.RequestLimitExceededException",
    "DynamoDB.ThrottlingException",
    "DynamoDB.TransactionConflictException",
    "States.Timeout",
]

# Every saga and workflow input carries these.
CONTEXT_FIELDS = {
    "order_id.$": "$.order_id",
    "correlation_id.$": "$.correlation_id",
    "flow.$": "$.flow",
}


def add_retries(task: sfn.TaskStateBase) -> None:
    task.add_retry(
        errors=LAMBDA_SERVICE_ERRORS,
        interval=Duration.seconds(1),
        max_attempts=3,
        backoff_rate=2,
        jitter_strategy=sfn.JitterType.FULL,
    )
    task.add_retry(
        errors=TRANSIENT_ERRORS,
        interval=Duration.seconds(1),
        max_attempts=3,
        backoff_rate=2,
        max_delay=Duration.seconds(8),
        jitter_strategy=sfn.JitterType.FULL,
    )


def invoke_task(
    scope: Construct,
    name: str,
    function: lambda_.IFunction,
    action: str,
    *,
    result_path: str,
    fields: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> tasks.LambdaInvoke:
    """A LambdaInvoke of `{"action": action, ...context, ...fields}` whose payload lands at result_path."""
    payload: dict[str, Any] = {"action": action, **CONTEXT_FIELDS, **(fields or {}), **(extra or {})}
    task = tasks.LambdaInvoke(
        scope,
        name,
        lambda_function=function,
        payload=sfn.TaskInput.from_object(payload),
        result_selector={"result.$": "$.Payload"},
        result_path=result_path,
        retry_on_service_exceptions=False,
        task_timeout=sfn.Timeout.duration(TASK_TIMEOUT),
    )
    add_retries(task)
    return task


def park_input(
    scope: Construct, name: str, queue: sqs.IQueue, fields: tuple[str, ...], failed_state: str
) -> tasks.SqsSendMessage:
    """A last-resort step: send the execution's original input (and where it failed) to a DLQ
    that `make redrive` re-runs from. Retried like any task; its own failure fails the execution."""
    park = tasks.SqsSendMessage(
        scope,
        name,
        queue=queue,
        message_body=sfn.TaskInput.from_object(
            {field: sfn.JsonPath.object_at(f"$.{field}") for field in fields} | {"failed_state": failed_state}
        ),
        result_path=sfn.JsonPath.DISCARD,
        task_timeout=sfn.Timeout.duration(Duration.seconds(5)),
    )
    add_retries(park)
    return park


def park_then_fail(
    scope: Construct,
    name: str,
    queue: sqs.IQueue,
    fields: tuple[str, ...],
    failed_state: str,
    *,
    error: str,
    cause: str,
) -> tuple[tasks.SqsSendMessage, sfn.Fail]:
    """`park_input` named `name`, followed by a Fail state `error`: the execution ends loudly."""
    park = park_input(scope, name, queue, fields, failed_state)
    fail = sfn.Fail(scope, error, error=error, cause=cause)
    park.next(fail)
    return park, fail
