"""The test-only CDK stack the local runner is built and tested against.

It holds one of each thing the runner must provision and run, wired the way the product
wires them (rule -> queue -> function, table stream -> function, API -> function, a saga-like
Express workflow), so the runner's tests do not depend on the product's stack being ready.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import (
    Duration,
    RemovalPolicy,
)
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

FIXTURE_CODE = Path(__file__).parent / "fixture_functions"
STACK_NAME = "LocalRunnerTest"
POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/x86_64/python3.13/latest"

# What the CDK CLI adds to every synthesis; a bare App() needs it to emit construct paths
# and asset metadata. The runner copes without them; the tests use them to check `find`.
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
}


class LocalRunnerTestStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)

        # A layer ARN that only CloudFormation can resolve: the runner must shrug it off.
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "Powertools", f"{{{{resolve:ssm:{POWERTOOLS_LAYER_PARAMETER}}}}}"
        )

        items = dynamodb.Table(
            self,
            "ItemsTable",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            time_to_live_attribute="expires",
            removal_policy=RemovalPolicy.DESTROY,
        )
        items.add_global_secondary_index(
            index_name="byKind",
            partition_key=dynamodb.Attribute(name="kind", type=dynamodb.AttributeType.STRING),
        )
        records = dynamodb.Table(
            self,
            "RecordsTable",
            table_name="local-runner-records",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            removal_policy=RemovalPolicy.DESTROY,
        )
        counters = dynamodb.TableV2(
            self,
            "CountersTable",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            removal_policy=RemovalPolicy.DESTROY,
        )

        def function(name: str, handler: str, timeout: int = 10, **env: str) -> lambda_.Function:
            return lambda_.Function(
                self,
                name,
                runtime=lambda_.Runtime.PYTHON_3_13,
                handler=f"handlers.{handler}",
                code=lambda_.Code.from_asset(str(FIXTURE_CODE), exclude=["__pycache__"]),
                timeout=Duration.seconds(timeout),
                memory_size=256,
                layers=[powertools],
                environment={"POWERTOOLS_SERVICE_NAME": name, **env},
            )

        echo_a = function("EchoA", "echo", SECRET_A="alpha")
        function("EchoB", "echo", SECRET_B="bravo")
        api_fn = function("ApiFn", "api")
        flaky = function("Flaky", "flaky", COUNTERS_TABLE=counters.table_name)
        counters.grant_read_write_data(flaky)
        slow = function("Slow", "slow", timeout=1)
        crash = function("Crash", "crash")
        unserializable = function("Unserializable", "unserializable")
        del slow, crash, unserializable  # invoked by name in tests

        # SQS -> Lambda with partial batch failures and a DLQ after two receives.
        work_dlq = sqs.Queue(self, "WorkDlq")
        work_queue = sqs.Queue(
            self,
            "WorkQueue",
            visibility_timeout=Duration.seconds(30),
            dead_letter_queue=sqs.DeadLetterQueue(queue=work_dlq, max_receive_count=2),
        )
        batch_fn = function("BatchFn", "batch")
        batch_fn.add_event_source(sources.SqsEventSource(work_queue, batch_size=10, report_batch_item_failures=True))
        # The same function behind a batching window: records that arrive within it come as one batch.
        window_queue = sqs.Queue(self, "WindowQueue", visibility_timeout=Duration.seconds(30))
        batch_fn.add_event_source(
            sources.SqsEventSource(window_queue, batch_size=5, max_batching_window=Duration.seconds(2))
        )

        # Table stream -> Lambda, INSERTs only, with bisect, one retry and an on-failure queue.
        stream_failures = sqs.Queue(self, "StreamFailures")
        recorder = function("Recorder", "recorder", RECORDS_TABLE=records.table_name)
        records.grant_read_write_data(recorder)
        recorder.add_event_source(
            sources.DynamoEventSource(
                items,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=10,
                retry_attempts=1,
                bisect_batch_on_error=True,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(stream_failures),
                filters=[lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("INSERT")})],
            )
        )

        # EventBridge: a custom bus, a rule to a queue (moto delivers), a rule to a function
        # and a rule to a state machine (the runner delivers), and an archive.
        bus = events.EventBus(self, "Bus", event_bus_name="local-runner-bus")
        bus.archive("Archive", event_pattern=events.EventPattern(source=["test.items"]), retention=Duration.days(1))
        events_queue = sqs.Queue(self, "EventsQueue")
        for detail_type, target in (
            ("ItemCreated", targets.SqsQueue(events_queue)),
            ("ItemAudited", targets.LambdaFunction(recorder)),
        ):
            events.Rule(
                self,
                f"{detail_type}Rule",
                event_bus=bus,
                event_pattern=events.EventPattern(source=["test.items"], detail_type=[detail_type]),
                targets=[target],
            )

        # An Express workflow with a named-error Retry and a Catch, and a Standard one.
        caught = sfn.Pass(self, "Caught")
        flaky_task = tasks.LambdaInvoke(
            self,
            "CallFlaky",
            lambda_function=flaky,
            payload_response_only=True,
            retry_on_service_exceptions=False,
        )
        flaky_task.add_retry(errors=["FlakyError"], interval=Duration.seconds(1), max_attempts=2, backoff_rate=1)
        flaky_task.add_catch(caught, errors=["States.ALL"], result_path="$.error")
        express = sfn.StateMachine(
            self,
            "ExpressFlow",
            state_machine_type=sfn.StateMachineType.EXPRESS,
            definition_body=sfn.DefinitionBody.from_chainable(flaky_task.next(sfn.Succeed(self, "Done"))),
        )
        standard = sfn.StateMachine(
            self,
            "StandardFlow",
            definition_body=sfn.DefinitionBody.from_chainable(
                sfn.Pass(self, "Start", parameters={"greeting.$": "$.greeting", "step": "start"}).next(
                    tasks.LambdaInvoke(self, "CallEcho", lambda_function=echo_a, result_path="$.echo")
                )
            ),
        )
        events.Rule(
            self,
            "ItemArchivedRule",
            event_bus=bus,
            event_pattern=events.EventPattern(source=["test.items"], detail_type=["ItemArchived"]),
            targets=[targets.SfnStateMachine(standard, input=events.RuleTargetInput.from_event_path("$.detail"))],
        )
        starter = function("Starter", "start_sync", EXPRESS_ARN=express.state_machine_arn)
        express.grant_start_sync_execution(starter)

        # The REST API: literal routes, a path parameter, a greedy proxy, a validated body.
        api = apigw.RestApi(self, "Api", deploy_options=apigw.StageOptions(stage_name="test"))
        integration = apigw.LambdaIntegration(api_fn)
        items_resource = api.root.add_resource("items")
        items_resource.add_method("GET", integration)
        items_resource.add_method("POST", integration)
        item = items_resource.add_resource("{id}")
        item.add_method("GET", integration)
        item.add_method("DELETE", integration, authorization_type=apigw.AuthorizationType.IAM)
        item.add_resource("files").add_resource("{proxy+}").add_method("ANY", integration)
        model = api.add_model(
            "NewThing",
            content_type="application/json",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                type=apigw.JsonSchemaType.OBJECT,
                required=["name"],
                properties={"name": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING, min_length=1)},
            ),
        )
        validator = api.add_request_validator("BodyValidator", validate_request_body=True)
        things = api.root.add_resource(
            "things", default_cors_preflight_options=apigw.CorsOptions(allow_origins=["*"], allow_methods=["POST"])
        )
        things.add_method("POST", integration, request_validator=validator, request_models={"application/json": model})
        api.root.add_resource("checkout").add_method("POST", apigw.LambdaIntegration(starter))
        api.root.add_resource("broken").add_resource("{mode}").add_method("GET", integration)

        # IAM: one handler twice, with and without the grant it needs (tests/local/test_iam.py).
        granted = function("GrantedWriter", "put_record", RECORDS_TABLE=records.table_name)
        records.grant_write_data(granted)
        function("UngrantedWriter", "put_record", RECORDS_TABLE=records.table_name)

        ssm.StringParameter(self, "Greeting", parameter_name="/local-runner/greeting", string_value="hello")
        sns.Topic(self, "Notifications")


def synth_test_assembly(outdir: str) -> str:
    """Synthesizes the test stack into `outdir` and returns the assembly directory."""
    app = cdk.App(outdir=outdir, context=CLI_CONTEXT)
    LocalRunnerTestStack(app, STACK_NAME)
    return app.synth().directory
