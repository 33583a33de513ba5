"""The orchestrated path: an Express saga that the orders API runs synchronously.

RecordOrder -> ReserveInventory -> AuthorizePayment -> CalculateTax -> CapturePayment
-> ConfirmOrder -> AnnounceOrderConfirmed. A business rejection (out of stock, declined)
or a step that fails through its retries takes the compensation path, which undoes in
reverse what may have happened: RefundPayment -> VoidAuthorization -> ReleaseInventory
-> RejectOrder -> AnnounceOrderRejected. Every compensation step is idempotent and a no-op
when there is nothing to undo, so one path serves every failure point.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cdk.common import ServiceFunction, Shared, dead_letter_queue
from cdk.retries import add_retries, invoke_task, park_input

# The saga's input, as the orders API starts it; what a parked saga keeps to be re-run.
SAGA_INPUT = ("order_id", "customer_id", "items", "total_cents", "payment_token", "correlation_id", "flow")

ORDER_FIELDS = {
    "customer_id.$": "$.customer_id",
    "items.$": "$.items",
    "total_cents.$": "$.total_cents",
    "payment_token.$": "$.payment_token",
}


class OrderSagaConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        orders_tasks: ServiceFunction,
        inventory_tasks: ServiceFunction,
        payments_tasks: ServiceFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        orders_fn = orders_tasks.function
        inventory_fn = inventory_tasks.function
        payments_fn = payments_tasks.function
        bus = shared.bus

        # An announcement EventBridge refused through every retry is parked here, whole,
        # for `make redrive` to publish; the order's decision itself is already durable.
        self.announcement_dlq = dead_letter_queue(self, "AnnouncementDeadLetterQueue")

        # Sagas that could not finish (a compensation step or the first write failed through
        # every retry) park their original input here; `make redrive` re-runs them.
        self.saga_dlq = dead_letter_queue(self, "SagaDeadLetterQueue")

        # --- forward path -------------------------------------------------------------
        record = invoke_task(self, "RecordOrder", orders_fn, "record", result_path="$.record", fields=ORDER_FIELDS)
        reserve = invoke_task(
            self, "ReserveInventory", inventory_fn, "reserve", result_path="$.reservation", fields=ORDER_FIELDS
        )
        authorize = invoke_task(
            self,
            "AuthorizePayment",
            payments_fn,
            "authorize",
            result_path="$.authorization",
            fields={"amount_cents.$": "$.total_cents", "payment_token.$": "$.payment_token"},
        )
        tax = invoke_task(
            self,
            "CalculateTax",
            payments_fn,
            "calculate_tax",
            result_path="$.tax",
            fields={"amount_cents.$": "$.total_cents"},
        )
        capture = invoke_task(self, "CapturePayment", payments_fn, "capture", result_path="$.capture")
        confirm = invoke_task(
            self,
            "ConfirmOrder",
            orders_fn,
            "confirm",
            result_path="$.confirmation",
            fields={"tax_cents.$": "$.tax.result.tax_cents"},
        )
        confirmed = sfn.Pass(
            self,
            "OrderConfirmed",
            parameters={
                "order_id.$": "$.order_id",
                "status": "CONFIRMED",
                "total_cents.$": "$.total_cents",
                "tax_cents.$": "$.tax.result.tax_cents",
                "correlation_id.$": "$.correlation_id",
            },
        )
        announce_confirmed = self._announce(
            bus, "AnnounceOrderConfirmed", "$.confirmation.result.announcement", then=confirmed
        )

        # --- compensation path -----------------------------------------------------------
        refund = invoke_task(self, "RefundPayment", payments_fn, "refund", result_path="$.refund")
        void = invoke_task(self, "VoidAuthorization", payments_fn, "void", result_path="$.void")
        release = invoke_task(self, "ReleaseInventory", inventory_fn, "release", result_path="$.release")
        reject = invoke_task(
            self,
            "RejectOrder",
            orders_fn,
            "reject",
            result_path="$.rejection",
            fields={"reason.$": "$.decision.reason"},
        )
        rejected = sfn.Pass(
            self,
            "OrderRejected",
            parameters={
                "order_id.$": "$.order_id",
                "status": "REJECTED",
                "reason.$": "$.decision.reason",
                "correlation_id.$": "$.correlation_id",
            },
        )
        announce_rejected = self._announce(
            bus, "AnnounceOrderRejected", "$.rejection.result.announcement", then=rejected
        )
        # If compensation itself cannot finish, the execution parks the order's saga input in
        # the saga DLQ and fails loudly (alarmed) rather than pretend; every step is idempotent,
        # so `make redrive` re-running the saga from that input completes it.
        compensation_failed = self._park(
            "CompensationFailed", "a compensation step failed through all its retries; redrive the order"
        )
        for step in (refund, void, release, reject):
            step.add_catch(compensation_failed, errors=["States.ALL"], result_path="$.compensation_error")
        refund.next(void).next(release).next(reject).next(announce_rejected)

        def decide(name: str, reason: str) -> sfn.Pass:
            return sfn.Pass(self, name, result=sfn.Result.from_object({"reason": reason}), result_path="$.decision")

        out_of_stock = decide("RejectOutOfStock", "OUT_OF_STOCK")
        declined = decide("RejectDeclined", "PAYMENT_DECLINED")
        unavailable = decide("RejectPaymentUnavailable", "PAYMENT_UNAVAILABLE")
        internal = decide("RejectInternalError", "INTERNAL_ERROR")
        out_of_stock.next(reject)  # nothing was reserved or charged
        for decision in (declined, unavailable, internal):
            decision.next(refund)

        not_recorded = self._park(
            "OrderNotRecorded", "the order could not be recorded; nothing was reserved or charged"
        )
        record.add_catch(not_recorded, errors=["States.ALL"], result_path="$.error")
        reserve.add_catch(internal, errors=["States.ALL"], result_path="$.error")
        for step in (authorize, tax, capture):
            step.add_catch(unavailable, errors=["States.ALL"], result_path="$.error")
        confirm.add_catch(internal, errors=["States.ALL"], result_path="$.error")

        definition = record.next(reserve).next(
            sfn.Choice(self, "StockReserved?")
            .when(sfn.Condition.string_equals("$.reservation.result.status", "RESERVED"), authorize)
            .otherwise(out_of_stock)
        )
        authorize.next(
            sfn.Choice(self, "PaymentAuthorized?")
            .when(sfn.Condition.string_equals("$.authorization.result.status", "AUTHORIZED"), tax)
            .otherwise(declined)
        )
        tax.next(capture).next(confirm).next(announce_confirmed)

        log_group = logs.LogGroup(self, "Logs", retention=shared.log_retention)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_type=sfn.StateMachineType.EXPRESS,
            comment="orderflow order saga: reserve, charge, confirm; compensate on failure",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=Duration.minutes(4),
            tracing_enabled=True,
            # Execution data holds the card token: keep it out of the logs.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        self.announcement_dlq.grant_send_messages(self.state_machine)
        self.saga_dlq.grant_send_messages(self.state_machine)

    def _park(self, name: str, cause: str) -> sfn.IChainable:
        """Send the saga's original input to the saga DLQ, then fail with `name`."""
        park = park_input(self, f"Park{name}", self.saga_dlq, SAGA_INPUT, name)
        park.add_retry(errors=["States.TaskFailed"], interval=Duration.seconds(1), max_attempts=3, backoff_rate=2)
        return park.next(sfn.Fail(self, name, error=name, cause=cause))

    def _announce(self, bus: events.IEventBus, name: str, detail_path: str, *, then: sfn.State) -> sfn.State:
        """PutEvents of the announcement the orders task built (deterministic event id)."""
        task = tasks.EventBridgePutEvents(
            self,
            name,
            entries=[
                tasks.EventBridgePutEventsEntry(
                    event_bus=bus,
                    source="orderflow.orders",
                    detail_type=sfn.JsonPath.string_at(f"{detail_path}.detail_type"),
                    detail=sfn.TaskInput.from_json_path_at(f"{detail_path}.detail"),
                )
            ],
            result_path=sfn.JsonPath.DISCARD,
            task_timeout=sfn.Timeout.duration(Duration.seconds(5)),
        )
        add_retries(task)
        task.add_retry(errors=["States.TaskFailed"], interval=Duration.seconds(1), max_attempts=3, backoff_rate=2)
        park = tasks.SqsSendMessage(
            self,
            f"{name}Parked",
            queue=self.announcement_dlq,
            message_body=sfn.TaskInput.from_object(
                {
                    "source": "orderflow.orders",
                    "detail_type": sfn.JsonPath.string_at(f"{detail_path}.detail_type"),
                    "detail": sfn.JsonPath.object_at(f"{detail_path}.detail"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
            task_timeout=sfn.Timeout.duration(Duration.seconds(5)),
        )
        task.add_catch(park, errors=["States.ALL"], result_path="$.announce_error")
        task.next(then)
        park.next(then)
        return task
