"""notifications-consumer: SQS (fed by the outcome rule) -> SNS customer notification + analytics."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from notifications import dependencies
from notifications.config import NotificationsSettings
from notifications.logic import NOTIFIED_EVENTS, handle_outcome
from notifications.observability import entry, logger
from shared.config import load
from shared.consumer import consume
from shared.events import Envelope, EventData

# Cold start: a misconfigured function fails at init, before it takes a single record.
load(NotificationsSettings)


def on_outcome(envelope: Envelope, data: EventData) -> None:
    handle_outcome(envelope.metadata, data, analytics=dependencies.analytics(), notifier=dependencies.notifier())


HANDLERS = {model.DETAIL_TYPE: on_outcome for model in NOTIFIED_EVENTS}


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consume(event, context, HANDLERS, logger)
