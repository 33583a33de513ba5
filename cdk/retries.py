"""How every Lambda task of the saga and the payment workflow is invoked and retried, and how
both state machines run.

Business outcomes (out of stock, declined) are results that a Choice reads; only technical
failures are errors. Those are retried with exponential backoff and jitter, then caught by
the caller's compensation. Every task is idempotent, so a retry after a timeout is safe.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
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
# How long a workflow waits for a task's answer. A test stack may shorten it (context
# `orderflow:sagaTaskTimeoutSeconds`, e.g. `cdk synth -c orderflow:sagaTaskTimeoutSeconds=4`) so
# that tests of late answers wait seconds, not minutes; it stays under the functions' 10 s timeout.
TASK_TIMEOUT_SECONDS = 8
TASK_TIMEOUT_CONTEXT = "orderflow:sagaTaskTimeoutSeconds"


def task_timeout_seconds(scope: Construct) -> int:
    value = scope.node.try_get_context(TASK_TIMEOUT_CONTEXT)
    seconds = TASK_TIMEOUT_SECONDS if value is None else int(value)
    if not 2 <= seconds <= 9:
        raise ValueError(f"{TASK_TIMEOUT_CONTEXT} must be 2 to 9 seconds (under the functions' 10 s): {value!r}")
    return seconds


def charge_budget_ms(scope: Construct) -> int:
    """How long after it starts a charge may still begin its capture: the task timeout less a margin,
    so that no capture lands once Step Functions stopped waiting for the answer."""
    return task_timeout_seconds(scope) * 1000 - 1000


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


def retry(task: sfn.TaskStateBase, errors: list[str], *, max_delay: Duration | None = None) -> None:
    """Retry `errors` 3 times, 1 s apart at first and twice as long each time, with full jitter."""
    task.add_retry(
        errors=errors,
        interval=Duration.seconds(1),
        max_attempts=3,
        backoff_rate=2,
        max_delay=max_delay,
        jitter_strategy=sfn.JitterType.FULL,
    )


def add_retries(task: sfn.TaskStateBase) -> None:
    retry(task, LAMBDA_SERVICE_ERRORS)
    retry(task, TRANSIENT_ERRORS, max_delay=Duration.seconds(8))


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
        task_timeout=sfn.Timeout.duration(Duration.seconds(task_timeout_seconds(scope))),
    )
    add_retries(task)
    return task


def charge_task(
    scope: Construct, function: lambda_.IFunction, *, amount_path: str, result_path: str
) -> tasks.LambdaInvoke:
    """ChargePayment: tax, the hold (amount + tax) and the capture in one invocation, which begins
    no capture once `charge_budget_ms` have passed; each part stays its own idempotent step, so a
    retried charge replays what already landed."""
    return invoke_task(
        scope,
        "ChargePayment",
        function,
        "charge",
        result_path=result_path,
        fields={"amount_cents.$": amount_path, "payment_ref.$": "$.payment_ref"},
        extra={"budget_ms": charge_budget_ms(scope)},
    )


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


def express_state_machine(
    scope: Construct,
    construct_id: str,
    *,
    logs_id: str,
    log_retention: logs.RetentionDays,
    comment: str,
    definition: sfn.IChainable,
    timeout: Duration,
) -> sfn.StateMachine:
    """An Express state machine, traced, that logs every event to its own log group (`logs_id`)
    but no execution data: that is the order's business (it carries a payment reference, never
    the card token)."""
    log_group = logs.LogGroup(scope, logs_id, retention=log_retention)
    return sfn.StateMachine(
        scope,
        construct_id,
        state_machine_type=sfn.StateMachineType.EXPRESS,
        comment=comment,
        definition_body=sfn.DefinitionBody.from_chainable(definition),
        timeout=timeout,
        tracing_enabled=True,
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
    )
