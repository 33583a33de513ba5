"""The orchestrated path: an Express saga that the orders API runs synchronously.

In the saga's own vocabulary (docs/decisions.md):

- compensatable steps: ReserveInventory (undone by ReleaseInventory), AuthorizePayment (undone
  by VoidAuthorization), CapturePayment (undone by RefundPayment); CalculateTax is read-only;
- the pivot: ConfirmOrder, a conditional write PENDING -> CONFIRMED. Once it has landed the order
  only moves forward: nothing compensates a confirmed order;
- retriable steps after the pivot: the announcement of the outcome (OrderConfirmed, then
  shipping and notifications), which the orders table's outbox relay publishes until it is done.

RecordOrder -> [decided already?] -> ReserveInventory -> CalculateTax -> AuthorizePayment (amount
+ tax) -> CapturePayment -> ConfirmOrder. A business rejection (out of stock, declined) or a step
that fails through its retries goes to RejectOrder first: a conditional write that makes the
rejection durable unless the order was confirmed (a confirm that landed and then timed out). If
it finds the order CONFIRMED the saga goes forward; otherwise it compensates in reverse:
RefundPayment -> VoidAuthorization -> ReleaseInventory, each idempotent and a no-op with nothing
to undo. An execution that finds its order already REJECTED (a redrive, or the reconciler's
compensation run) only compensates; one that finds it CONFIRMED only answers.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk.common import ServiceFunction, Shared, dead_letter_queue
from cdk.retries import invoke_task, park_then_fail

# The saga's input, as the orders API starts it; what a parked saga keeps to be re-run.
SAGA_INPUT = ("order_id", "customer_id", "items", "total_cents", "payment_ref", "correlation_id", "flow")
# The longest an execution may run; the orders reconciler decides an order left undecided past it.
SAGA_TIMEOUT = Duration.minutes(4)

ORDER_FIELDS = {
    "customer_id.$": "$.customer_id",
    "items.$": "$.items",
    "total_cents.$": "$.total_cents",
    "payment_ref.$": "$.payment_ref",
}
# Where record, confirm and reject leave the stored order's status, reason and tax.
ORDER = "$.order.result"


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

        # Sagas that could not finish (a compensation step or the first write failed through
        # every retry) park their original input here; `make redrive` re-runs them.
        self.saga_dlq = dead_letter_queue(self, "SagaDeadLetterQueue")

        # --- the end states: the answer is always the stored order's ------------------------
        confirmed = sfn.Pass(
            self,
            "OrderConfirmed",
            parameters={
                "order_id.$": "$.order_id",
                "status": "CONFIRMED",
                "total_cents.$": "$.total_cents",
                "tax_cents.$": f"{ORDER}.tax_cents",
                "correlation_id.$": "$.correlation_id",
            },
        )
        rejected = sfn.Pass(
            self,
            "OrderRejected",
            parameters={
                "order_id.$": "$.order_id",
                "status": "REJECTED",
                "reason.$": f"{ORDER}.reason",
                "correlation_id.$": "$.correlation_id",
            },
        )

        # --- compensation: the rejection first, then undo in reverse -------------------------
        refund = invoke_task(self, "RefundPayment", payments_fn, "refund", result_path="$.refund")
        void = invoke_task(self, "VoidAuthorization", payments_fn, "void", result_path="$.void")
        release = invoke_task(self, "ReleaseInventory", inventory_fn, "release", result_path="$.release")
        refund.next(void).next(release).next(rejected)
        reject = invoke_task(
            self,
            "RejectOrder",
            orders_fn,
            "reject",
            result_path="$.order",
            fields={"reason.$": "$.decision.reason"},
        )
        # The pivot decides: a confirm that landed before its answer was lost wins over the rejection.
        reject.next(
            sfn.Choice(self, "RejectionDurable?")
            .when(sfn.Condition.string_equals(f"{ORDER}.status", "CONFIRMED"), confirmed)
            # out of stock: nothing was reserved nor charged, so there is nothing to undo
            .when(sfn.Condition.string_equals("$.decision.reason", "OUT_OF_STOCK"), rejected)
            .otherwise(refund)
        )
        # If compensation itself cannot finish, the execution parks the order's saga input in
        # the saga DLQ and fails loudly (alarmed) rather than pretend; every step is idempotent,
        # so `make redrive` re-running the saga from that input completes it.
        compensation_failed = self._park(
            "CompensationFailed", "a compensation step failed through all its retries; redrive the order"
        )
        for step in (reject, refund, void, release):
            step.add_catch(compensation_failed, errors=["States.ALL"], result_path="$.compensation_error")

        def decide(name: str, reason: str) -> sfn.Pass:
            decision = sfn.Pass(self, name, result=sfn.Result.from_object({"reason": reason}), result_path="$.decision")
            decision.next(reject)
            return decision

        out_of_stock = decide("RejectOutOfStock", "OUT_OF_STOCK")
        declined = decide("RejectDeclined", "PAYMENT_DECLINED")
        unavailable = decide("RejectPaymentUnavailable", "PAYMENT_UNAVAILABLE")
        internal = decide("RejectInternalError", "INTERNAL_ERROR")

        # --- forward path ---------------------------------------------------------------------
        record = invoke_task(self, "RecordOrder", orders_fn, "record", result_path="$.order", fields=ORDER_FIELDS)
        reserve = invoke_task(
            self, "ReserveInventory", inventory_fn, "reserve", result_path="$.reservation", fields=ORDER_FIELDS
        )
        tax = invoke_task(
            self,
            "CalculateTax",
            payments_fn,
            "calculate_tax",
            result_path="$.tax",
            fields={"amount_cents.$": "$.total_cents"},
        )
        authorize = invoke_task(
            self,
            "AuthorizePayment",
            payments_fn,
            "authorize",
            result_path="$.authorization",
            fields={
                "amount_cents.$": "$.total_cents",
                "tax_cents.$": "$.tax.result.tax_cents",
                "payment_ref.$": "$.payment_ref",
            },
        )
        capture = invoke_task(self, "CapturePayment", payments_fn, "capture", result_path="$.capture")
        confirm = invoke_task(
            self,
            "ConfirmOrder",
            orders_fn,
            "confirm",
            result_path="$.order",
            fields={"tax_cents.$": "$.tax.result.tax_cents"},
        )

        not_recorded = self._park(
            "OrderNotRecorded", "the order could not be recorded; nothing was reserved or charged"
        )
        record.add_catch(not_recorded, errors=["States.ALL"], result_path="$.error")
        reserve.add_catch(internal, errors=["States.ALL"], result_path="$.error")
        for step in (tax, authorize, capture):
            step.add_catch(unavailable, errors=["States.ALL"], result_path="$.error")
        # A confirm that failed through its retries may still have landed: RejectOrder finds out.
        confirm.add_catch(internal, errors=["States.ALL"], result_path="$.error")

        definition = record.next(
            sfn.Choice(self, "AlreadyDecided?")
            .when(sfn.Condition.string_equals(f"{ORDER}.status", "CONFIRMED"), confirmed)
            .when(sfn.Condition.string_equals(f"{ORDER}.status", "REJECTED"), refund)
            .otherwise(reserve)
        )
        reserve.next(
            sfn.Choice(self, "StockReserved?")
            .when(sfn.Condition.string_equals("$.reservation.result.status", "RESERVED"), tax)
            .otherwise(out_of_stock)
        )
        tax.next(authorize).next(
            sfn.Choice(self, "PaymentAuthorized?")
            .when(sfn.Condition.string_equals("$.authorization.result.status", "AUTHORIZED"), capture)
            .when(sfn.Condition.string_equals("$.authorization.result.status", "DECLINED"), declined)
            .otherwise(unavailable)
        )
        capture.next(
            sfn.Choice(self, "PaymentCaptured?")
            .when(sfn.Condition.string_equals("$.capture.result.status", "CAPTURED"), confirm)
            .otherwise(unavailable)
        )
        confirm.next(
            sfn.Choice(self, "Confirmed?")
            .when(sfn.Condition.string_equals(f"{ORDER}.status", "CONFIRMED"), confirmed)
            # the order was rejected meanwhile (the reconciler decided it): compensate
            .otherwise(refund)
        )

        log_group = logs.LogGroup(self, "Logs", retention=shared.log_retention)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_type=sfn.StateMachineType.EXPRESS,
            comment="orderflow order saga: reserve, charge, confirm (the pivot); compensate before it",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            timeout=SAGA_TIMEOUT,
            tracing_enabled=True,
            # Execution data is the order's business: keep it out of the logs (it carries only a
            # payment reference, never the card token).
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        self.saga_dlq.grant_send_messages(self.state_machine)

    def _park(self, name: str, cause: str) -> sfn.IChainable:
        """Send the saga's original input to the saga DLQ, then fail with `name`."""
        park, _ = park_then_fail(self, f"Park{name}", self.saga_dlq, SAGA_INPUT, name, error=name, cause=cause)
        park.add_retry(errors=["States.TaskFailed"], interval=Duration.seconds(1), max_attempts=3, backoff_rate=2)
        return park
