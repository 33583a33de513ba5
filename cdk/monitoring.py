"""What a team watches: alarms that notify someone, and one dashboard per stage.

Every alarm (one per DLQ, saga timeouts and failures, payment workflow failures, Lambda errors
and throttles) sends ALARM and OK to one SNS topic; context `orderflow:alarmEmail` subscribes an
address to it. The dashboard shows orders per path and outcome, time to decision (p50/p99),
the state machines' failures, DLQ depth, the age of the oldest message per queue, and Lambda
errors and throttles.
"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

NAMESPACE = "orderflow"
FLOWS = ("orchestrated", "choreographed")
PERIOD = Duration.minutes(1)


def _any(metric: cloudwatch.IMetric) -> dict[str, object]:
    return {
        "metric": metric,
        "threshold": 0,
        "comparison_operator": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        "evaluation_periods": 1,
        "treat_missing_data": cloudwatch.TreatMissingData.NOT_BREACHING,
    }


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dead_letter_queues: dict[str, sqs.IQueue],
        queues: dict[str, sqs.IQueue],
        saga: sfn.StateMachine,
        payment_workflow: sfn.StateMachine,
        functions: dict[str, lambda_.IFunction],
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # CloudWatch must be able to use the key to publish to an encrypted topic.
        key = kms.Key(self, "AlarmTopicKey", enable_key_rotation=True, description="orderflow alarm topic")
        key.grant(iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(self, "AlarmTopic", master_key=key, enforce_ssl=True, display_name="orderflow alarms")
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"],
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        action = actions.SnsAction(self.topic)

        self.alarms: list[cloudwatch.Alarm] = []

        def alarm(alarm_id: str, description: str, metric: cloudwatch.IMetric) -> None:
            created = cloudwatch.Alarm(stack, alarm_id, alarm_description=description, **_any(metric))  # type: ignore[arg-type]
            created.add_alarm_action(action)
            created.add_ok_action(action)
            self.alarms.append(created)

        for name, queue in dead_letter_queues.items():
            alarm(
                f"DeadLetters-{name}",
                f"orderflow: messages waiting in the {name} DLQ; see docs/operations.md",
                queue.metric_approximate_number_of_messages_visible(period=PERIOD),
            )
        alarm(
            "SagaTimeouts",
            "orderflow: saga executions timed out; the reconciler decides their orders (see docs/operations.md)",
            saga.metric_timed_out(period=PERIOD),
        )
        alarm(
            "SagaFailures",
            "orderflow: saga executions failed (compensation could not finish)",
            saga.metric_failed(period=PERIOD),
        )
        alarm(
            "PaymentWorkflowFailures",
            "orderflow: payment workflows failed or timed out (their input is parked for redrive)",
            cloudwatch.MathExpression(
                expression="failed + timedout",
                using_metrics={
                    "failed": payment_workflow.metric_failed(period=PERIOD),
                    "timedout": payment_workflow.metric_timed_out(period=PERIOD),
                },
                period=PERIOD,
            ),
        )
        for name, function in functions.items():
            for kind, what, metric in (
                ("LambdaErrors", "raised errors (see its log group)", function.metric_errors),
                (
                    "LambdaThrottles",
                    "was throttled (raise its concurrency or the account limit)",
                    function.metric_throttles,
                ),
            ):
                alarm(f"{kind}-{name}", f"orderflow: {name} {what}", metric(period=PERIOD))

        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"{stack.stack_name}-operations", default_interval=Duration.hours(3)
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Orders per path and outcome",
                left=[_orders(metric, flow) for metric in ("OrderConfirmed", "OrderRejected") for flow in FLOWS],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Time to decision (ms)",
                left=[_decision_time(flow, stat) for flow in FLOWS for stat in ("p50", "p99")],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Saga and payment workflow failures",
                left=[
                    saga.metric_failed(period=PERIOD, label="saga failed"),
                    saga.metric_timed_out(period=PERIOD, label="saga timed out"),
                    payment_workflow.metric_failed(period=PERIOD, label="payment workflow failed"),
                    payment_workflow.metric_timed_out(period=PERIOD, label="payment workflow timed out"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Messages in dead-letter queues",
                left=[
                    q.metric_approximate_number_of_messages_visible(period=PERIOD, label=name)
                    for name, q in dead_letter_queues.items()
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Age of the oldest message (s)",
                left=[
                    q.metric_approximate_age_of_oldest_message(period=PERIOD, label=name) for name, q in queues.items()
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Lambda errors and throttles",
                left=[f.metric_errors(period=PERIOD, label=f"{name} errors") for name, f in functions.items()],
                right=[f.metric_throttles(period=PERIOD, label=f"{name} throttles") for name, f in functions.items()],
                width=12,
            ),
        )


def _orders(metric: str, flow: str) -> cloudwatch.IMetric:
    # OrderRejected carries a `reason` dimension too: SEARCH sums every reason of the flow.
    return cloudwatch.MathExpression(
        expression=f"SUM(SEARCH('{{{NAMESPACE},flow,service}} OR {{{NAMESPACE},flow,reason,service}} "
        f'MetricName="{metric}" flow="{flow}"\', \'Sum\', 60))',
        label=f"{metric} {flow}",
        period=PERIOD,
    )


def _decision_time(flow: str, stat: str) -> cloudwatch.IMetric:
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name="TimeToDecision",
        dimensions_map={"service": "orders", "flow": flow},
        statistic=stat,
        period=PERIOD,
        label=f"{flow} {stat}",
    )
