"""Payments: the provider adapter, and the service's own payment workflow.

The workflow is orchestration *inside* the payments bounded context (the hybrid): the
choreographed path hears InventoryReserved and starts it; the orchestrated saga runs the
same charge step itself. Either way the steps announce PaymentCompleted / PaymentFailed.

ChargePayment (tax, then a hold of amount + tax, then a capture of exactly that, in one
invocation). Only a charge that answers CAPTURED ends in PaymentCompleted: a payment that is final
already (voided, refunded, failed: a redriven workflow after compensation) goes to the void/fail
path, which leaves nothing held and announces PaymentFailed.

An Express workflow, started asynchronously (docs/decisions.md, "The payment workflow is
Express"): every step is idempotent and every final payment state final, so its at-least-once
runs cost nothing but a replay, at a fraction of a Standard workflow's price per transition.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_kms as kms
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk.common import ServiceConstruct, Shared, choreographed, dead_letter_queue, service_table
from cdk.payment_refs import data_key_statement, payment_ref_statement
from cdk.retries import TRANSIENT_ERRORS, charge_task, express_state_machine, invoke_task, park_then_fail

TAX_RATE_BPS = "825"
# The workflow's input, as payments-consumer starts it; what a parked workflow keeps.
WORKFLOW_INPUT = ("order_id", "customer_id", "amount_cents", "payment_ref", "correlation_id", "flow")
# An Express execution runs at most 5 minutes; the steps' retries take well under one.
WORKFLOW_TIMEOUT = Duration.minutes(5)


class PaymentsConstruct(ServiceConstruct):
    service = "payments"

    def __init__(self, scope: Construct, construct_id: str, *, shared: Shared, payment_ref_key: kms.IKey) -> None:
        super().__init__(scope, construct_id, shared=shared)
        self.table = service_table(self, "Table", "pk")
        self.tasks = self.function(
            "Tasks",
            "tasks",
            "charge (tax, authorize, capture), refund and void through the provider adapter",
            environment={
                "PAYMENTS_TABLE": self.table.table_name,
                "EVENT_BUS_NAME": shared.bus.event_bus_name,
                "TAX_RATE_BPS": TAX_RATE_BPS,
                "PAYMENT_PROVIDER": "simulated",
                "PAYMENT_REF_KEY_ID": payment_ref_key.key_arn,
            },
        )
        self.tasks.grant(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [self.table.table_arn])
        # The one function that opens payment references (authorize, to call the processor):
        # Decrypt only: the references' data keys (their purpose as the encryption context), and
        # references sealed directly by KMS before data keys were cached (an order id as context).
        self.tasks.role.add_to_policy(data_key_statement("kms:Decrypt", payment_ref_key))
        self.tasks.role.add_to_policy(payment_ref_statement("kms:Decrypt", payment_ref_key))
        shared.bus.grant_put_events_to(self.tasks.role)

        # Payment workflows that could not even announce their failure park their input here.
        self.workflow_dlq = dead_letter_queue(self, "WorkflowDeadLetterQueue")
        self.workflow = self._workflow(shared)
        self.workflow_dlq.grant_send_messages(self.workflow)

        self.consumer = self.function(
            "Consumer",
            "consumer",
            "start the payment workflow on InventoryReserved; refund on OrderRejected",
            environment={
                "PAYMENTS_TABLE": self.table.table_name,
                "EVENT_BUS_NAME": shared.bus.event_bus_name,
                "PAYMENT_WORKFLOW_ARN": self.workflow.state_machine_arn,
                "TAX_RATE_BPS": TAX_RATE_BPS,
                "PAYMENT_PROVIDER": "simulated",
            },
        )
        self.consumer.grant(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [self.table.table_arn])
        self.workflow.grant_start_execution(self.consumer.role)
        shared.bus.grant_put_events_to(self.consumer.role)
        self.events = self.subscribe(
            "Events",
            self.consumer,
            {
                "ChargeOnInventoryReserved": choreographed(["InventoryReserved"], ["orderflow.inventory"]),
                "RefundOnOrderRejected": choreographed(["OrderRejected"], ["orderflow.orders"]),
            },
        )

    def _workflow(self, shared: Shared) -> sfn.StateMachine:
        fn = self.tasks.function

        charge = charge_task(self, fn, amount_path="$.amount_cents", result_path="$.capture")
        void = invoke_task(self, "VoidAuthorization", fn, "void", result_path="$.void")
        fail = invoke_task(
            self,
            "AnnouncePaymentFailed",
            fn,
            "fail",
            result_path="$.failure",
            extra={"reason": "PAYMENT_UNAVAILABLE"},
        )
        failed = sfn.Fail(
            self,
            "PaymentUnavailable",
            error="PaymentUnavailable",
            cause="the provider stayed unavailable through every retry",
        )
        void.next(fail)
        fail.next(failed)
        # `fail` releases whatever is still held itself, so a void that cannot finish goes on to it.
        void.add_catch(fail, errors=["States.ALL"], result_path="$.void_error")
        # If even the failure cannot be announced, park the workflow's input for `make redrive`.
        self._park_on_failure(
            fail,
            "ParkWorkflow",
            "$.fail_error",
            error="PaymentWorkflowParked",
            cause="the payment failure could not be announced; redrive the workflow",
        )
        # The capture is this workflow's pivot: once it landed it may have been announced and
        # confirmed the order. A charge that failed through its retries asks whether its capture
        # landed: if so the workflow goes forward; only the order's rejection refunds it.
        settle = invoke_task(self, "CaptureLanded", fn, "settle", result_path="$.capture")
        charge.add_catch(settle, errors=["States.ALL"], result_path="$.error")
        # Not knowing is not a reason to refund: park the workflow for `make redrive`.
        self._park_on_failure(
            settle,
            "ParkUnsettledCapture",
            "$.settle_error",
            error="CaptureUnsettled",
            cause="whether the capture landed could not be read; redrive the workflow",
        )

        completed = sfn.Succeed(self, "PaymentCompleted")
        declined = sfn.Succeed(self, "PaymentDeclined", comment="authorize announced PaymentFailed")
        captured = (
            sfn.Choice(self, "Captured?")
            .when(sfn.Condition.string_equals("$.capture.result.status", "CAPTURED"), completed)
            .when(sfn.Condition.string_equals("$.capture.result.status", "DECLINED"), declined)
            # a final payment (voided, refunded, failed) or a capture that never landed:
            # release anything held, announce the failure
            .otherwise(void)
        )
        charge.next(captured)
        settle.next(captured)
        return express_state_machine(
            self,
            "Workflow",
            logs_id="WorkflowLogs",
            log_retention=shared.log_retention,
            comment="payments' own workflow: charge (tax, authorize, capture), void on failure",
            definition=charge,
            timeout=WORKFLOW_TIMEOUT,
        )

    def _park_on_failure(self, step: sfn.TaskStateBase, name: str, result_path: str, *, error: str, cause: str) -> None:
        """A `step` that failed through its retries parks the workflow's input (and its own name), then fails."""
        park, _ = park_then_fail(self, name, self.workflow_dlq, WORKFLOW_INPUT, step.state_id, error=error, cause=cause)
        step.add_catch(park, errors=["States.ALL"], result_path=result_path)


__all__ = ["TRANSIENT_ERRORS", "PaymentsConstruct"]
