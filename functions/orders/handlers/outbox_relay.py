"""orders-relay: the orders table's stream (NEW_AND_OLD_IMAGES) -> the orderflow bus.

INSERT announces OrderPlaced (both flows); an order of either flow reaching CONFIRMED/REJECTED
announces its outcome (the saga has no announcement step of its own). Records fail one by one
(ReportBatchItemFailures); a retried record republishes the same events with the same ids.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from orders import dependencies
from orders.data.orders_repository import order_from_item
from orders.observability import entry, logger, without_values
from shared.observability import bind_correlation


class MalformedOrderImageError(ValueError):
    """A stream image is not a valid order: nothing can be announced from it."""


# Report failed records even when the whole batch fails, so the stream retries from the first of them.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def handle_record(record: DynamoDBRecord) -> None:
    change = record.event_name
    if change not in (DynamoDBRecordEventName.INSERT, DynamoDBRecordEventName.MODIFY) or record.dynamodb is None:
        return
    try:
        new = order_from_item(record.dynamodb.new_image) if record.dynamodb.new_image else None
        old = order_from_item(record.dynamodb.old_image) if record.dynamodb.old_image else None
    except ValidationError as error:
        # The record fails (and is retried); its text names fields only: the image holds a payment token.
        raise MalformedOrderImageError(without_values(error)) from None
    if new is None:
        return
    bind_correlation(logger, new.correlation_id, new.order_id)
    try:
        events = dependencies.relay().relay(change.name, old, new)
        if events:
            logger.info("order events relayed", extra={"detail_types": [e.detail_type for e in events]})
    finally:
        logger.remove_keys(["correlation_id", "order_id"])


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
