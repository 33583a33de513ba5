"""orders-timeline: every orderflow event (via SQS) -> the per-order timeline."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders import dependencies
from orders.observability import entry, logger
from shared.consumer import Handler, consume
from shared.events import EVENT_TYPES, Envelope, EventData


def _record(envelope: Envelope, data: EventData) -> None:
    if dependencies.recorder().record(envelope, data):
        # The timeline item is the record; a line per event would only repeat it in the logs.
        logger.debug("event recorded on the timeline")
    else:
        logger.info("event already on the timeline; dropped")


HANDLERS: dict[str, Handler] = dict.fromkeys(EVENT_TYPES, _record)


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consume(event, context, HANDLERS, logger)
