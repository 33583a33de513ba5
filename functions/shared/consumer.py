"""The one way orderflow services consume events: EventBridge rule -> SQS -> Lambda.

Each SQS record's body is a full EventBridge event. A record is parsed against the event
contract *before* anything is applied, so a malformed event never half-applies; it fails,
is retried, and lands in the queue's DLQ after maxReceiveCount with a log line naming why.
Failures are reported per record (ReportBatchItemFailures), so the rest of a batch commits.

A batch never runs into the function's timeout: when less than ``TIME_RESERVE_MS`` is left, the
records not yet taken are reported failed (they come back after the visibility timeout), because
an invocation that times out fails every record of its batch, the applied ones included, and
a batch that keeps timing out ends whole in the DLQ.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from shared.events import Envelope, EventData, UnknownEventError, parse_eventbridge

Handler = Callable[[Envelope, Any], None]
TIME_RESERVE_MS = 2_000


class OutOfTimeError(RuntimeError):
    """Too little of the invocation is left to take this record; it is retried, nothing applied."""


class MalformedEventError(ValueError):
    """The record is not a valid orderflow event; it goes to the DLQ, nothing is applied."""


def describe(error: Exception) -> str:
    """Why an event was refused, naming fields and error types but never the values
    (a pydantic message quotes the input, which can carry a card token)."""
    if isinstance(error, ValidationError):
        problems = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['type']}" for e in error.errors()]
        return f"{error.title}: " + "; ".join(problems[:20])
    if isinstance(error, json.JSONDecodeError):
        return f"body is not JSON (line {error.lineno}, column {error.colno})"
    if isinstance(error, KeyError):
        return f"missing EventBridge field {error.args[0]!r}"
    return f"{type(error).__name__}: {error}"[:300]


def consume(
    event: dict[str, Any],
    context: Any,
    handlers: Mapping[str, Handler],
    logger: Logger,
) -> dict[str, Any]:
    # Report every failed record, even when all of a batch fails, rather than raising.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    clock: Callable[[], int] | None = getattr(context, "get_remaining_time_in_millis", None)
    deferred: list[str] = []

    def handle_record(record: SQSRecord) -> None:
        left = clock() if clock is not None else None
        if deferred or (left is not None and left < TIME_RESERVE_MS):
            if not deferred:
                logger.warning("too little time left: the rest of the batch is retried", extra={"left_ms": left})
            deferred.append(record.message_id)
            raise OutOfTimeError(record.message_id)
        try:
            envelope, data = parse_eventbridge(json.loads(record.body))
        except (ValueError, KeyError, TypeError, AttributeError, ValidationError, UnknownEventError) as error:
            reason = describe(error)
            logger.error("malformed event rejected", extra={"message_id": record.message_id, "error": reason})
            raise MalformedEventError(reason) from error
        logger.append_keys(
            correlation_id=envelope.metadata.correlation_id,
            order_id=envelope.metadata.order_id,
            event_id=envelope.metadata.event_id,
            detail_type=envelope.detail_type,
        )
        try:
            handler = handlers.get(envelope.detail_type)
            if handler is None:
                logger.warning("no handler for event; acknowledged", extra={"detail_type": envelope.detail_type})
                return
            handler(envelope, data)
        finally:
            logger.remove_keys(["correlation_id", "order_id", "event_id", "detail_type"])

    response = process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
    return dict(response)


__all__ = ["TIME_RESERVE_MS", "EventData", "Handler", "MalformedEventError", "OutOfTimeError", "consume", "describe"]
