"""payments-consumer: the choreographed flow's payment step.

InventoryReserved -> start the payment workflow (choreographed orders only: the saga charges
orchestrated ones itself); OrderRejected -> void the authorization or refund the capture, on
any flow, a safety net that is a no-op when compensation already ran.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payments.dependencies import consumer_payments, payment_workflow
from payments.domain.models import WorkflowRequest
from payments.observability import entry, logger, metrics, record_outcome
from shared.consumer import consume
from shared.events import Envelope, EventData, InventoryReserved, OrderRejected
from shared.observability import count


def on_inventory_reserved(envelope: Envelope, data: EventData) -> None:
    assert isinstance(data, InventoryReserved)
    if envelope.metadata.flow != "choreographed":
        logger.info("orchestrated order: the saga charges it; acknowledged")
        return
    started = payment_workflow().start(
        WorkflowRequest(
            order_id=data.order_id,
            customer_id=data.customer_id,
            amount_cents=data.total_cents,
            payment_ref=data.payment_ref,
            correlation_id=envelope.metadata.correlation_id,
            flow=envelope.metadata.flow,
        )
    )
    if started:
        count(metrics, "PaymentWorkflowStarted")


def on_order_rejected(envelope: Envelope, data: EventData) -> None:
    # Usually the order was rejected after inventory refused it or payment failed; but the
    # reconciler also rejects an order whose events are stuck (a payments outage past its
    # deadline), and its InventoryReserved may still start a payment later: the VOIDED marker
    # left when there is no payment yet makes that late authorize hold nothing. Out of stock,
    # no payment ever starts: nothing is written.
    assert isinstance(data, OrderRejected)
    outcome = consumer_payments().void(
        data.order_id,
        envelope.metadata.correlation_id,
        envelope.metadata.flow,
        tombstone=data.reason != "OUT_OF_STOCK",
    )
    record_outcome(outcome)


HANDLERS = {
    "InventoryReserved": on_inventory_reserved,
    "OrderRejected": on_order_rejected,
}


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consume(event, context, HANDLERS, logger)
