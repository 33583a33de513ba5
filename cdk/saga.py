"""The orchestrated path: an Express saga that the orders API runs synchronously.

In the saga's own vocabulary (docs/decisions.md):

- compensatable steps: ReserveInventory (undone by ReleaseInventory) and ChargePayment (tax,
  authorize amount + tax, capture in one payments invocation; undone by RefundPayment and
  VoidAuthorization);
- the pivot: ConfirmOrder, a conditional write PENDING -> CONFIRMED. Once it has landed the order
  only moves forward: nothing compensates a confirmed order;
- retriable steps after the pivot: the announcement of the outcome (OrderConfirmed, then
  shipping and notifications), which the orders table's outbox relay publishes until it is done.

ReadOrder (a consistent GetItem, no Lambda: the API recorded the order before it started the
saga) -> [decided already?] -> ReserveInventory -> ChargePayment -> ConfirmOrder: the API and
three functions on the critical path. Only a saga started from an input whose order was never
recorded (a hand-made redrive) runs RecordOrder, the function that records it. A business
rejection (out of stock, declined) or a step that fails through its retries goes to RejectOrder
first: a conditional write that makes the rejection durable unless the order was confirmed (a
confirm that landed and then timed out). If it finds the order CONFIRMED the saga goes forward;
otherwise it compensates in reverse: RefundPayment -> VoidAuthorization -> ReleaseInventory,
each idempotent and a no-op with nothing to undo. An execution that finds its order already
REJECTED (a redrive, or the reconciler's compensation run) only compensates; one that finds it
CONFIRMED only answers.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from cdk.common import ServiceFunction, Shared, dead_letter_queue
from cdk.retries import (
    DYNAMODB_TRANSIENT_ERRORS,
    charge_task,
    express_state_machine,
    invoke_task,
    park_then_fail,
    retry,
)

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
# Where ReadOrder leaves the stored order's status, reason and tax (DynamoDB JSON).
STORED = "$.stored.Item"


class OrderSagaConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Shared,
        orders_table: dynamodb.ITable,
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
        # The API recorded the order (PENDING, with this execution's lease) before starting the
        # saga: reading it is enough, and needs no function. A consistent read, so a decision
        # written a moment ago is seen.
        read = tasks.DynamoGetItem(
            self,
            "ReadOrder",
            table=orders_table,
            key={"order_id": tasks.DynamoAttributeValue.from_string(sfn.JsonPath.string_at("$.order_id"))},
            consistent_read=True,
            projection_expression=[
                tasks.DynamoProjectionExpression().with_attribute(name) for name in ("#status", "#reason", "#tax")
            ],
            expression_attribute_names={"#status": "status", "#reason": "reason", "#tax": "tax_cents"},
            result_path="$.stored",
            task_timeout=sfn.Timeout.duration(Duration.seconds(5)),
        )
        retry(read, DYNAMODB_TRANSIENT_ERRORS)
        # Only an input whose order was never recorded (a hand-made redrive) records it here.
        record = invoke_task(self, "RecordOrder", orders_fn, "record", result_path="$.order", fields=ORDER_FIELDS)
        reserve = invoke_task(
            self, "ReserveInventory", inventory_fn, "reserve", result_path="$.reservation", fields=ORDER_FIELDS
        )
        charge = charge_task(self, payments_fn, amount_path="$.total_cents", result_path="$.payment")
        confirm = invoke_task(
            self,
            "ConfirmOrder",
            orders_fn,
            "confirm",
            result_path="$.order",
            fields={"tax_cents.$": "$.payment.result.tax_cents"},
        )

        not_recorded = self._park(
            "OrderNotRecorded", "the order could not be recorded; nothing was reserved or charged"
        )
        read.add_catch(not_recorded, errors=["States.ALL"], result_path="$.error")
        record.add_catch(not_recorded, errors=["States.ALL"], result_path="$.error")
        reserve.add_catch(internal, errors=["States.ALL"], result_path="$.error")
        charge.add_catch(unavailable, errors=["States.ALL"], result_path="$.error")
        # A confirm that failed through its retries may still have landed: RejectOrder finds out.
        confirm.add_catch(internal, errors=["States.ALL"], result_path="$.error")

        # The stored decision, in the shape record, confirm and reject answer ({status, reason, tax_cents}).
        def stored(name: str, result: dict[str, object]) -> sfn.Pass:
            return sfn.Pass(self, name, parameters={"result": result}, result_path="$.order")

        stored_confirmation = stored(
            "StoredConfirmation",
            {"status": "CONFIRMED", "reason": None, "tax_cents.$": f"States.StringToJson({STORED}.tax_cents.N)"},
        )
        stored_rejection = stored(
            "StoredRejection", {"status": "REJECTED", "reason.$": f"{STORED}.reason.S", "tax_cents": None}
        )
        stored_confirmation.next(confirmed)
        stored_rejection.next(refund)
        definition = read.next(
            sfn.Choice(self, "AlreadyDecided?")
            .when(sfn.Condition.is_not_present(STORED), record)
            .when(
                sfn.Condition.and_(
                    sfn.Condition.string_equals(f"{STORED}.status.S", "CONFIRMED"),
                    sfn.Condition.is_present(f"{STORED}.tax_cents.N"),
                ),
                stored_confirmation,
            )
            .when(
                sfn.Condition.and_(
                    sfn.Condition.string_equals(f"{STORED}.status.S", "REJECTED"),
                    sfn.Condition.is_present(f"{STORED}.reason.S"),
                ),
                stored_rejection,
            )
            .when(
                sfn.Condition.or_(
                    sfn.Condition.string_equals(f"{STORED}.status.S", "CONFIRMED"),
                    sfn.Condition.string_equals(f"{STORED}.status.S", "REJECTED"),
                ),
                # a decision stored without its tax or reason: let the orders function answer it
                record,
            )
            .otherwise(reserve)
        )
        record.next(
            sfn.Choice(self, "RecordedDecided?")
            .when(sfn.Condition.string_equals(f"{ORDER}.status", "CONFIRMED"), confirmed)
            .when(sfn.Condition.string_equals(f"{ORDER}.status", "REJECTED"), refund)
            .otherwise(reserve)
        )
        reserve.next(
            sfn.Choice(self, "StockReserved?")
            .when(sfn.Condition.string_equals("$.reservation.result.status", "RESERVED"), charge)
            .otherwise(out_of_stock)
        )
        charge.next(
            sfn.Choice(self, "PaymentCaptured?")
            .when(sfn.Condition.string_equals("$.payment.result.status", "CAPTURED"), confirm)
            .when(sfn.Condition.string_equals("$.payment.result.status", "DECLINED"), declined)
            # a final payment (voided, refunded, failed: compensation ran meanwhile)
            .otherwise(unavailable)
        )
        confirm.next(
            sfn.Choice(self, "Confirmed?")
            .when(sfn.Condition.string_equals(f"{ORDER}.status", "CONFIRMED"), confirmed)
            # the order was rejected meanwhile (the reconciler decided it): compensate
            .otherwise(refund)
        )

        self.state_machine = express_state_machine(
            self,
            "StateMachine",
            logs_id="Logs",
            log_retention=shared.log_retention,
            comment="orderflow order saga: read, reserve, charge, confirm (the pivot); compensate before it",
            definition=definition,
            timeout=SAGA_TIMEOUT,
        )
        self.saga_dlq.grant_send_messages(self.state_machine)

    def _park(self, name: str, cause: str) -> sfn.IChainable:
        """Send the saga's original input to the saga DLQ, then fail with `name`."""
        park, _ = park_then_fail(self, f"Park{name}", self.saga_dlq, SAGA_INPUT, name, error=name, cause=cause)
        park.add_retry(errors=["States.TaskFailed"], interval=Duration.seconds(1), max_attempts=3, backoff_rate=2)
        return park
