"""Orders: the orders table and API, the outbox relay, the status projection and the timeline."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk.common import ServiceConstruct, Shared, choreographed, dead_letter_queue, service_table
from cdk.payment_refs import data_key_statement

OUTCOME_EVENTS = ["InventoryReserved", "InventoryRejected", "PaymentCompleted", "PaymentFailed"]
# The sparse index of undecided orders by deadline (functions/orders/data/orders_repository.py).
UNDECIDED_INDEX = "undecided-by-deadline"
# How long one saga execution holds its order: the saga's timeout plus a margin.
SAGA_LEASE = Duration.seconds(270)
CHOREOGRAPHY_DEADLINE = Duration.minutes(30)


class OrdersConstruct(ServiceConstruct):
    service = "orders"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        inventory_table: dynamodb.ITable,
        payment_ref_key: kms.IKey,
        choreography_deadline: Duration = CHOREOGRAPHY_DEADLINE,
    ) -> None:
        super().__init__(scope, construct_id, shared=shared)
        self.table = service_table(self, "Table", "order_id", stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES)
        # Undecided orders by deadline: sparse (a decided order drops out), spread over 8 keys.
        self.table.add_global_secondary_index(
            index_name=UNDECIDED_INDEX,
            partition_key=dynamodb.Attribute(name="undecided", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="deadline", type=dynamodb.AttributeType.STRING),
        )
        deadlines = {
            "SAGA_LEASE_SECONDS": str(int(SAGA_LEASE.to_seconds())),
            "CHOREOGRAPHY_DEADLINE_SECONDS": str(int(choreography_deadline.to_seconds())),
        }
        self.events_table = service_table(self, "EventsTable", "order_id", "event_key")
        self.idempotency_table = service_table(self, "IdempotencyTable", "id", time_to_live_attribute="expiration")
        bus_env = {"EVENT_BUS_NAME": shared.bus.event_bus_name}

        self.api = self.function(
            "Api",
            "api",
            "orders API: place orders, status and timeline",
            timeout=Duration.seconds(29),
            environment={
                "ORDERS_TABLE": self.table.table_name,
                "ORDER_EVENTS_TABLE": self.events_table.table_name,
                "IDEMPOTENCY_TABLE": self.idempotency_table.table_name,
                "INVENTORY_TABLE": inventory_table.table_name,
                "PAYMENT_REF_KEY_ID": payment_ref_key.key_arn,
                **deadlines,
            },
        )
        # The card token is sealed here into a payment reference: data keys only, never Decrypt.
        self.api.role.add_to_policy(data_key_statement("kms:GenerateDataKey", payment_ref_key))
        # UpdateItem: the saga lease (claim on a retry, release when the start was refused).
        self.api.grant(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [self.table.table_arn])
        self.api.grant(["dynamodb:Query"], [self.events_table.table_arn])
        self.api.grant(
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            [self.idempotency_table.table_arn],
        )
        # Read-only price lookup in inventory's catalog (a documented decision): inventory
        # keeps every write; orders only reads sku prices to validate and total an order.
        self.api.grant(["dynamodb:BatchGetItem", "dynamodb:GetItem"], [inventory_table.table_arn])

        self.tasks = self.function(
            "Tasks",
            "saga_tasks",
            "record, confirm and reject orders for the saga",
            environment={"ORDERS_TABLE": self.table.table_name, "SAGA_LEASE_SECONDS": deadlines["SAGA_LEASE_SECONDS"]},
        )
        self.tasks.grant(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [self.table.table_arn])

        # The transactional outbox: the order item and its event are one write; the stream
        # relays the event. Records the relay cannot publish after its retries go to a DLQ.
        self.relay = self.function(
            "Relay",
            "outbox_relay",
            "publish OrderPlaced and every order's outcome from the orders stream",
            environment=bus_env,
        )
        shared.bus.grant_put_events_to(self.relay.role)
        self.relay_dlq = dead_letter_queue(self, "RelayDeadLetterQueue")
        self.relay.function.add_event_source(
            sources.DynamoEventSource(
                self.table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=25,
                bisect_batch_on_error=True,
                retry_attempts=10,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(self.relay_dlq),
                filters=[lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.or_("INSERT", "MODIFY")})],
            )
        )

        self.projector = self.function(
            "Projector",
            "projector",
            "project choreographed outcome events onto the order's status",
            environment={"ORDERS_TABLE": self.table.table_name},
        )
        self.projector.grant(["dynamodb:GetItem", "dynamodb:UpdateItem"], [self.table.table_arn])
        self.projection = self.subscribe(
            "ProjectionEvents",
            self.projector,
            {"ProjectOutcomes": choreographed(OUTCOME_EVENTS, ["orderflow.inventory", "orderflow.payments"])},
        )

        self.timeline = self.function(
            "Timeline",
            "timeline",
            "record every orderflow event on its order's timeline",
            environment={"ORDER_EVENTS_TABLE": self.events_table.table_name},
        )
        self.timeline.grant(["dynamodb:PutItem"], [self.events_table.table_arn])
        self.timeline_events = self.subscribe(
            "TimelineEvents", self.timeline, {"RecordEveryEvent": {"source": events.Match.prefix("orderflow.")}}
        )

        # No order stays undecided: every minute, decide those past their deadline.
        self.reconciler = self.function(
            "Reconciler",
            "reconciler",
            "reject orders left undecided past their deadline and start their compensation",
            timeout=Duration.seconds(29),
            environment={"ORDERS_TABLE": self.table.table_name},
        )
        self.reconciler.grant(["dynamodb:Query"], [f"{self.table.table_arn}/index/{UNDECIDED_INDEX}"])
        self.reconciler.grant(["dynamodb:GetItem", "dynamodb:UpdateItem"], [self.table.table_arn])
        self.reconcile_schedule = events.Rule(
            self,
            "ReconcileSchedule",
            description="orders-reconciler every minute",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[targets.LambdaFunction(self.reconciler.function, retry_attempts=2)],
        )

    def use_saga(self, state_machine: sfn.StateMachine) -> None:
        self.api.function.add_environment("SAGA_STATE_MACHINE_ARN", state_machine.state_machine_arn)
        state_machine.grant_start_sync_execution(self.api.role)
        self.reconciler.function.add_environment("SAGA_STATE_MACHINE_ARN", state_machine.state_machine_arn)
        state_machine.grant_start_execution(self.reconciler.role)
