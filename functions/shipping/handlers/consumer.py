"""shipping-consumer: SQS (fed by the OrderConfirmed rule) -> one shipment per order."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.config import load
from shared.consumer import consume
from shared.events import Envelope, OrderConfirmed
from shipping import dependencies
from shipping.config import ShippingSettings
from shipping.logic import schedule_shipment
from shipping.observability import entry, logger

# Cold start: a misconfigured function fails at init, before it takes a single record.
load(ShippingSettings)


def on_order_confirmed(envelope: Envelope, order: OrderConfirmed) -> None:
    schedule_shipment(
        order, envelope.metadata, repository=dependencies.repository(), publisher=dependencies.publisher()
    )


HANDLERS = {OrderConfirmed.DETAIL_TYPE: on_order_confirmed}


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consume(event, context, HANDLERS, logger)
