"""The orderflow stack: one construct per service, the bus, the saga and the API."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicies, Stack
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cdk.api import ApiConstruct
from cdk.bus import EventBusConstruct
from cdk.common import Shared, powertools_layer
from cdk.inventory import InventoryConstruct
from cdk.monitoring import Monitoring
from cdk.notifications import NotificationsConstruct
from cdk.orders import OrdersConstruct
from cdk.payment_refs import payment_ref_key
from cdk.payments import PaymentsConstruct
from cdk.saga import OrderSagaConstruct
from cdk.shipping import ShippingConstruct


class OrderflowStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        ctx = self.node.try_get_context
        # Stage settings (cdk.json `orderflow:stages.<stage>`) override the top-level defaults.
        stage_settings: dict[str, object] = dict((ctx("orderflow:stages") or {}).get(ctx("stage") or "", {}))

        def setting(name: str, default: object = None) -> object:
            if name in stage_settings:
                return stage_settings[name]
            value = ctx(f"orderflow:{name}")
            return default if value is None else value

        retention_days = int(str(setting("logRetentionDays", 30)))

        self.bus = EventBusConstruct(self, "EventBus")
        # Fault injection (docs/operations.md) exists only where the context enables it: the local
        # cloud (its runner synthesizes with `local:cloud`) and test stacks do; a deployment does
        # not, unless `-c orderflow:faultInjection=true`.
        self.faults: ssm.StringParameter | None = None
        if _flag(ctx("orderflow:faultInjection")) or _flag(ctx("local:cloud")):
            self.faults = ssm.StringParameter(
                self,
                "FaultInjection",
                parameter_name=f"/{construct_id.lower()}/faults",
                string_value="{}",
                description='orderflow fault injection: {"<service>.<operation>": {phase, failure_rate, latency_ms}}',
            )
        shared = Shared(
            bus=self.bus.bus,
            powertools_layer=powertools_layer(self, str(ctx("orderflow:powertoolsVersion") or "3.37.0")),
            log_retention=_retention(retention_days),
            delivery_dlq=self.bus.delivery_dlq,
            faults_parameter_name=self.faults.parameter_name if self.faults else None,
            faults_parameter_arn=self.faults.parameter_arn if self.faults else None,
        )
        # Card tokens travel only sealed with this key, per order (docs/decisions.md).
        self.payment_ref_key = payment_ref_key(self, "PaymentRefKey")
        self.inventory = InventoryConstruct(self, "Inventory", shared=shared)
        self.payments = PaymentsConstruct(self, "Payments", shared=shared, payment_ref_key=self.payment_ref_key)
        self.orders = OrdersConstruct(
            self,
            "Orders",
            shared=shared,
            inventory_table=self.inventory.table,
            payment_ref_key=self.payment_ref_key,
            choreography_deadline=Duration.minutes(int(str(setting("choreographyDeadlineMinutes", 30)))),
        )
        self.shipping = ShippingConstruct(self, "Shipping", shared=shared)
        self.notifications = NotificationsConstruct(self, "Notifications", shared=shared)
        self.saga = OrderSagaConstruct(
            self,
            "OrderSaga",
            shared=shared,
            orders_table=self.orders.table,
            orders_tasks=self.orders.tasks,
            inventory_tasks=self.inventory.tasks,
            payments_tasks=self.payments.tasks,
        )
        self.orders.use_saga(self.saga.state_machine)
        self.api = ApiConstruct(
            self,
            "Api",
            shared=shared,
            orders_api=self.orders.api.function,
            inventory_api=self.inventory.api.function,
            throttle_rate=int(str(setting("apiThrottleRate", 50))),
            throttle_burst=int(str(setting("apiThrottleBurst", 100))),
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            dead_letter_queues=self.dead_letter_queues(),
            queues={
                "inventory": self.inventory.events.queue,
                "payments": self.payments.events.queue,
                "orders-projector": self.orders.projection.queue,
                "orders-timeline": self.orders.timeline_events.queue,
                "shipping": self.shipping.events.queue,
                "notifications": self.notifications.events.queue,
            },
            saga=self.saga.state_machine,
            payment_workflow=self.payments.workflow,
            functions={
                "orders-api": self.orders.api.function,
                "orders-tasks": self.orders.tasks.function,
                "orders-relay": self.orders.relay.function,
                "orders-projector": self.orders.projector.function,
                "orders-timeline": self.orders.timeline.function,
                "orders-reconciler": self.orders.reconciler.function,
                "inventory-api": self.inventory.api.function,
                "inventory-tasks": self.inventory.tasks.function,
                "inventory-consumer": self.inventory.consumer.function,
                "payments-tasks": self.payments.tasks.function,
                "payments-consumer": self.payments.consumer.function,
                "shipping-consumer": self.shipping.consumer.function,
                "notifications-consumer": self.notifications.consumer.function,
            },
            alarm_email=str(setting("alarmEmail")) if setting("alarmEmail") else None,
        )
        if not _flag(setting("retainData", True)):
            # A throwaway stage: its tables go with the stack.
            RemovalPolicies.of(self).destroy(apply_to_resource_types=["AWS::DynamoDB::Table"])

        CfnOutput(self, "ApiUrl", value=self.api.api.url)
        CfnOutput(self, "EventBusName", value=self.bus.bus.event_bus_name)
        CfnOutput(self, "SagaStateMachineArn", value=self.saga.state_machine.state_machine_arn)
        CfnOutput(self, "PaymentWorkflowArn", value=self.payments.workflow.state_machine_arn)
        CfnOutput(self, "NotificationsTopicArn", value=self.notifications.topic.topic_arn)
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
        CfnOutput(self, "DashboardName", value=self.monitoring.dashboard.dashboard_name)

    def dead_letter_queues(self) -> dict[str, sqs.IQueue]:
        """Every DLQ of the system by a readable name; `make redrive` and the checker use these."""
        return {
            "event-delivery": self.bus.delivery_dlq,
            "saga": self.saga.saga_dlq,
            "payment-workflow": self.payments.workflow_dlq,
            "orders-relay": self.orders.relay_dlq,
            "orders-projector": self.orders.projection.dlq,
            "orders-timeline": self.orders.timeline_events.dlq,
            "inventory": self.inventory.events.dlq,
            "payments": self.payments.events.dlq,
            "shipping": self.shipping.events.dlq,
            "notifications": self.notifications.events.dlq,
        }


def _flag(value: object) -> bool:
    """A boolean context value; `-c name=true` on the CLI arrives as a string."""
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
}


def _retention(days: int) -> logs.RetentionDays:
    if days in _RETENTION:
        return _RETENTION[days]
    raise ValueError(f"orderflow:logRetentionDays={days} is not a CloudWatch Logs retention period")
