"""orders-projector: choreographed outcome events (via SQS) -> the order's forward-only status."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders import dependencies
from orders.observability import entry, logger
from shared.consumer import Handler, consume
from shared.events import Envelope, EventData


def _project(envelope: Envelope, data: EventData) -> None:
    dependencies.projection().apply(envelope, data)


PROJECTED = ("InventoryReserved", "InventoryRejected", "PaymentCompleted", "PaymentFailed")
HANDLERS: dict[str, Handler] = dict.fromkeys(PROJECTED, _project)


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consume(event, context, HANDLERS, logger)
