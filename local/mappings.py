"""Event source mappings, done the way Lambda's pollers do them (moto's own fire inline and lose failures).

- `SqsPoller` (local.mappings_sqs): long-polls the queue (moto's queue itself, as Lambda's pollers
  are part of the service, not over HTTP), invokes with batches in Lambda's SQS
  event format, deletes what succeeded (all but `batchItemFailures` with
  ReportBatchItemFailures; nothing on a function error). Failed messages come back after the
  queue's visibility timeout, and moto moves them to the DLQ once their receive count passes
  maxReceiveCount. `redelivery_delay` shortens that wait (a local-only speed knob for tests).
- `StreamPoller` (local.mappings_streams): reads the table's stream in order from TRIM_HORIZON
  or LATEST, drops records that match no FilterCriteria pattern, and retries a failed batch
  (bisecting it, resuming from the reported sequence number) until MaximumRetryAttempts is
  spent; then the batch's description goes to the OnFailure destination, as Lambda sends it.

This module holds what both share: the poll backoff, the activity signal, batch item failures
and the failure destinations.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from local.functions import InvocationResult

log = logging.getLogger(__name__)

Invoke = Callable[[dict[str, Any]], InvocationResult]

ERROR_BACKOFF_SECONDS = (0.1, 5.0)  # first and longest wait after a failed poll


class Backoff:
    """Waits longer after each consecutive failure; warns once per streak, not on every retry."""

    def __init__(self, describe: Callable[[], str]) -> None:
        self._describe = describe
        self._failures = 0

    def failed(self, error: Exception, stop: threading.Event) -> None:
        self._failures += 1
        first, longest = ERROR_BACKOFF_SECONDS
        level = logging.WARNING if self._failures == 1 else logging.DEBUG
        log.log(level, "%s: polling failed (%s); retrying", self._describe(), error)
        stop.wait(min(longest, first * 2 ** (self._failures - 1)))

    def succeeded(self) -> None:
        if self._failures:
            log.info("%s: polling works again", self._describe())
        self._failures = 0


class Activity:
    """A generation counter bumped by everything that moves work; `wait_idle` waits on it."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.generation = 0

    def bump(self) -> None:
        with self._condition:
            self.generation += 1
            self._condition.notify_all()

    def wait(self, generation: int, timeout: float) -> None:
        with self._condition:
            self._condition.wait_for(lambda: self.generation != generation, timeout=timeout)


class BatchFailures:
    """Parses a ReportBatchItemFailures response; `invalid` means Lambda treats it as a full failure."""

    def __init__(self, result: InvocationResult, known_ids: set[str]) -> None:
        self.ids: list[str] = []
        self.invalid = False
        try:
            payload = result.json()
        except ValueError:
            return  # not JSON: Lambda counts the batch as a success
        if not isinstance(payload, dict):
            return
        failures = payload.get("batchItemFailures")
        if failures is None:
            return
        if not isinstance(failures, list):
            self.invalid = True
            return
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or str(identifier) not in known_ids:
                self.invalid = True
                return
            self.ids.append(str(identifier))


def send_to_destination(client: Callable[[str], Any], destination: str, message: dict[str, Any]) -> None:
    """Sends an invocation record to an SQS queue or SNS topic destination."""
    body = json.dumps(message)
    service = destination.split(":")[2]
    if service == "sqs":
        sqs = client("sqs")
        name, account = destination.rsplit(":", 1)[-1], destination.split(":")[4]
        url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=body)
    elif service == "sns":
        client("sns").publish(TopicArn=destination, Message=body)
    else:
        log.warning("destination %s is not supported locally; dropped: %s", destination, body[:200])
