"""inventory-consumer: the choreographed flow's inventory step.

OrderPlaced -> reserve (choreographed orders only: the saga reserves orchestrated ones);
PaymentFailed and OrderRejected -> release, on any flow: releasing a failed order's stock is
always right and idempotent, so it doubles as a safety net behind the saga's compensation.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.dependencies import worker_inventory
from inventory.handlers.models import reservation_request
from inventory.observability import entry, logger, record_release, record_reservation
from shared.consumer import consume
from shared.events import Envelope, EventData, OrderPlaced


def on_order_placed(envelope: Envelope, data: EventData) -> None:
    assert isinstance(data, OrderPlaced)
    if envelope.metadata.flow != "choreographed":
        logger.info("orchestrated order: the saga reserves it; acknowledged")
        return
    request = reservation_request(data, envelope.metadata.correlation_id, envelope.metadata.flow)
    outcome = worker_inventory().reserve_stock(request)
    record_reservation(outcome)


def on_order_failed(envelope: Envelope, data: EventData) -> None:
    outcome = worker_inventory().release_stock(data.order_id, envelope.metadata.correlation_id, envelope.metadata.flow)
    record_release(outcome)


HANDLERS = {
    "OrderPlaced": on_order_placed,
    "PaymentFailed": on_order_failed,
    "OrderRejected": on_order_failed,
}


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consume(event, context, HANDLERS, logger)
