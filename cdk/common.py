"""Building blocks every service construct uses: a service function and an event consumer.

A ServiceFunction is a Python Lambda function with its own least-privilege role, its own
log group with retention, JSON logs, X-Ray tracing, and Powertools from its public layer.
Its code asset holds exactly its service package and the shared package.

An EventConsumer is the choreography's delivery path: rule(s) -> SQS queue (+ DLQ) -> Lambda,
never rule -> Lambda, so that the queue buffers events while a consumer is down.

A ServiceConstruct is a service's construct: it builds both for its one service.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from cdk.batching import BATCHING, consumer_batching_window

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
RUNTIME = lambda_.Runtime.PYTHON_3_13
# Graviton: the same code at a 20% lower price per GB-s (docs/decisions.md, "Functions on arm64").
ARCHITECTURE = lambda_.Architecture.ARM_64
POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsPythonV3-python313-arm64"
# Memory per function, from the measured durations (docs/decisions.md, "Memory from measured
# duration"): the saga's tasks are on the orchestrated critical path and spend their time in
# our own code (validation, KMS, transactions), so they keep 512 MB of CPU share; everything
# else spends it waiting (the orders API waits for its saga, consumers for DynamoDB and
# EventBridge) or off any critical path, and runs at 256 MB (peak RSS is 47-67 MB).
DEFAULT_MEMORY_MB = 256
MEMORY_MB = {
    ("orders", "saga_tasks"): 512,
    ("inventory", "saga_tasks"): 512,
    ("payments", "tasks"): 512,
}
# SQS visibility timeout must exceed the consumer's timeout; AWS recommends six times it.
VISIBILITY_FACTOR = 6
MAX_RECEIVE_COUNT = 5
DEFAULT_TIMEOUT = Duration.seconds(10)


@dataclass(frozen=True)
class Shared:
    """What every service construct receives from the stack."""

    bus: events.IEventBus
    powertools_layer: lambda_.ILayerVersion
    log_retention: logs.RetentionDays
    delivery_dlq: sqs.IQueue  # where EventBridge parks events it could not deliver to a target
    # The fault injection document; None (the default deployment) = no fault injection at all:
    # no variable, no grant, no SSM read per call.
    faults_parameter_name: str | None = None
    faults_parameter_arn: str | None = None


def powertools_layer(scope: Construct, version: str) -> lambda_.ILayerVersion:
    """The public Powertools layer, resolved at deploy time from its versioned SSM parameter."""
    arch = ARCHITECTURE.name  # "arm64" or "x86_64", as the parameter path spells it
    arn = f"{{{{resolve:ssm:/aws/service/powertools/python/{arch}/{RUNTIME.name}/{version}}}}}"
    return lambda_.LayerVersion.from_layer_version_arn(scope, "PowertoolsLayer", arn)


def service_code(service: str) -> lambda_.Code:
    """The service package plus shared/, nothing else (no tests, no other services)."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=["*", f"!{service}", f"!{service}/**", "!shared", "!shared/**", "**/__pycache__", "**/*.pyc"],
    )


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """A DLQ as every one of orderflow's: encrypted, TLS-only, messages kept 14 days (alarmed by the stack)."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )


class ServiceFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        service: str,
        handler_module: str,
        description: str,
        environment: dict[str, str] | None = None,
        timeout: Duration | None = None,
        memory_size: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.service = service
        self.handler_module = handler_module
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            retention=shared.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"orderflow {service}: {description}",
        )
        # Logs go to this function's own log group only (no AWSLambdaBasicExecutionRole).
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        env = {
            "POWERTOOLS_SERVICE_NAME": service,
            "POWERTOOLS_METRICS_NAMESPACE": "orderflow",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **(environment or {}),
        }
        if shared.faults_parameter_name and shared.faults_parameter_arn:
            self.role.add_to_policy(
                iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[shared.faults_parameter_arn])
            )
            env["ORDERFLOW_FAULTS_PARAMETER"] = shared.faults_parameter_name
            # How long each process caches the document (default 2 s); test stacks wait less.
            cache_seconds = self.node.try_get_context("orderflow:faultsCacheSeconds")
            if cache_seconds is not None:
                env["ORDERFLOW_FAULTS_CACHE_SECONDS"] = str(float(cache_seconds))
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=f"{service}.handlers.{handler_module}.lambda_handler",
            code=service_code(service),
            description=f"orderflow {service}: {description}",
            environment=env,
            timeout=timeout or DEFAULT_TIMEOUT,
            memory_size=memory_size or MEMORY_MB.get((service, handler_module), DEFAULT_MEMORY_MB),
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            # The handlers' INFO lines are each step's story (and carry the correlation id); Lambda's
            # own START/END/REPORT lines are not: duration and memory are in Lambda's metrics and the
            # trace. About 280 bytes an invocation less to ingest (docs/decisions.md, 18).
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE,
            layers=[shared.powertools_layer],
        )

    def grant(self, actions: list[str], resources: list[str]) -> None:
        self.role.add_to_policy(iam.PolicyStatement(actions=actions, resources=resources))


class EventConsumer(Construct):
    """rule(s) -> queue (+ DLQ after MAX_RECEIVE_COUNT) -> function, with partial batch failures."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        function: ServiceFunction,
        patterns: dict[str, dict[str, Any]],
        batch_size: int | None = None,
        batching_window: Duration | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        timeout = function.function.timeout or DEFAULT_TIMEOUT
        self.dlq = dead_letter_queue(self, "DeadLetterQueue")
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(timeout.to_seconds() * VISIBILITY_FACTOR),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dlq, max_receive_count=MAX_RECEIVE_COUNT),
        )
        self.rules: list[events.Rule] = []
        for rule_id, pattern in patterns.items():
            rule = events.Rule(
                self,
                rule_id,
                event_bus=shared.bus,
                event_pattern=events.EventPattern(**pattern),
                description=f"{rule_id} -> {function.node.path}",
            )
            rule.add_target(
                targets.SqsQueue(
                    self.queue,
                    dead_letter_queue=shared.delivery_dlq,
                    retry_attempts=185,
                    max_event_age=Duration.hours(24),
                )
            )
            self.rules.append(rule)
        default_size, default_window = BATCHING.get((function.service, function.handler_module), (10, None))
        function.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=batch_size or default_size,
                max_batching_window=batching_window or consumer_batching_window(self, default_window),
                report_batch_item_failures=True,
            )
        )


class ServiceConstruct(Construct):
    """A service's construct: its functions and event consumers, each built with the stack's Shared."""

    service: ClassVar[str]

    def __init__(self, scope: Construct, construct_id: str, *, shared: Shared) -> None:
        super().__init__(scope, construct_id)
        self.shared = shared

    def function(
        self,
        construct_id: str,
        handler_module: str,
        description: str,
        *,
        environment: dict[str, str] | None = None,
        timeout: Duration | None = None,
    ) -> ServiceFunction:
        return ServiceFunction(
            self,
            construct_id,
            shared=self.shared,
            service=self.service,
            handler_module=handler_module,
            description=description,
            environment=environment,
            timeout=timeout,
        )

    def subscribe(self, construct_id: str, function: ServiceFunction, patterns: dict[str, Any]) -> EventConsumer:
        return EventConsumer(self, construct_id, shared=self.shared, function=function, patterns=patterns)


def choreographed(detail_types: list[str], source: list[str] | None = None) -> dict[str, Any]:
    """A pattern for events of the choreographed path only."""
    return {**any_flow(detail_types, source), "detail": {"metadata": {"flow": ["choreographed"]}}}


def any_flow(detail_types: list[str], source: list[str] | None = None) -> dict[str, Any]:
    pattern: dict[str, Any] = {"detail_type": detail_types}
    if source:
        pattern["source"] = source
    return pattern


def service_table(
    scope: Construct, construct_id: str, partition_key: str, sort_key: str | None = None, **kwargs: object
) -> dynamodb.Table:
    """Every table: on demand, encrypted, point-in-time recovery, retained on stack deletion."""
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=dynamodb.Attribute(name=partition_key, type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING) if sort_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        removal_policy=RemovalPolicy.RETAIN,
        **kwargs,  # type: ignore[arg-type]
    )
