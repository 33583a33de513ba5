"""SQS -> Lambda: one poller per mapping, as Lambda's SQS poller does it (see local.mappings)."""

from __future__ import annotations

import base64
import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local.mappings import Activity, Backoff, BatchFailures, Invoke
from local.provisioned import EventSourceMappingSpec
from local.sqs_queue import QueueOfTheService

log = logging.getLogger("local.mappings")

SQS_RECORD_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)
LONG_POLL_SECONDS = 20
# Filling a batch inside its window: a long poll takes whole seconds, so in a window's last second
# (all of a 1 s window) the poller receives again this often, until the batch is full or the
# window has passed. Every 50 ms was 20 receives a second per filling poller, a large part of
# the runner's CPU under load, for a batch that fills at most a quarter-second sooner.
FILL_POLL_SECONDS = 0.25


class SqsPoller:
    def __init__(
        self,
        spec: EventSourceMappingSpec,
        invoke: Invoke,
        *,
        queue_arn: str,
        region: str,
        redelivery_delay: float | None,
        max_concurrency: int,
        activity: Activity,
        account_id: str,
    ) -> None:
        props = spec.properties
        self.spec = spec
        self.queue_arn = queue_arn
        self.region = region
        self.fifo = queue_arn.endswith(".fifo")
        self.batch_size = int(props.get("BatchSize", 10))
        self.window = float(props.get("MaximumBatchingWindowInSeconds", 0))
        self.report_failures = "ReportBatchItemFailures" in props.get("FunctionResponseTypes", [])
        scaling = props.get("ScalingConfig", {}).get("MaximumConcurrency")
        concurrency = 1 if self.fifo else min(max_concurrency, int(scaling) if scaling else max_concurrency)
        self.redelivery_delay = redelivery_delay
        self._invoke = invoke
        self._queue = QueueOfTheService(account_id, region, queue_arn.rsplit(":", 1)[-1])
        self._activity = activity
        self._slots = threading.BoundedSemaphore(concurrency)
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix=f"sqs-{spec.function_name}")
        self._stop = threading.Event()
        self._in_flight = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"poll-{spec.logical_id}", daemon=True)
        self.invocations = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._queue.wake()

    @property
    def busy(self) -> bool:
        return self._in_flight > 0

    def describe(self) -> str:
        return f"SQS {self.queue_arn.rsplit(':', 1)[-1]} -> {self.spec.function_name}"

    # -- polling -------------------------------------------------------------------------

    def _receive(self, wait_seconds: int, count: int) -> list[dict[str, Any]]:
        return self._queue.receive(wait_seconds, count)

    def _run(self) -> None:
        # FIFO: moto's long poll spins while a message group is in flight, so poll briefly instead.
        long_poll = 1 if self.fifo else LONG_POLL_SECONDS
        backoff = Backoff(self.describe)
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.5):
                continue
            handed_off = False
            try:
                messages = self._receive(long_poll, self.batch_size)
                backoff.succeeded()
                if messages and (self.window > 0 or self.batch_size > 10):
                    messages += self._fill_batch(len(messages))
                if messages and not self._stop.is_set():
                    with self._lock:
                        self._in_flight += 1
                    self._activity.bump()
                    self._executor.submit(self._process, messages)
                    handed_off = True
            except Exception as error:
                if self._stop.is_set():
                    return
                backoff.failed(error, self._stop)
            finally:
                if not handed_off:
                    self._slots.release()

    def _fill_batch(self, have: int) -> list[dict[str, Any]]:
        """Keeps receiving until the batch is full or the batching window has passed."""
        more: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.window
        while have + len(more) < self.batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            received = self._receive(int(remaining), self.batch_size - have - len(more))
            more += received
            if not received and remaining < 1:
                self._stop.wait(min(remaining, FILL_POLL_SECONDS))
        return more

    def _process(self, messages: list[dict[str, Any]]) -> None:
        try:
            records = [self._record(message) for message in messages]
            result = self._invoke({"Records": records})
            self.invocations += 1
            by_id = {message["MessageId"]: message for message in messages}
            if result.errored:
                failed = set(by_id)
            elif self.report_failures:
                failures = BatchFailures(result, set(by_id))
                failed = set(by_id) if failures.invalid else set(failures.ids)
            else:
                failed = set()
            self._delete([m for m in messages if m["MessageId"] not in failed])
            if failed and self.redelivery_delay is not None:
                self._make_visible([m for m in messages if m["MessageId"] in failed])
        except Exception:
            if self._stop.is_set():  # the cloud stopped under it: the messages stay in their queue
                log.debug("%s: a batch in progress when the cloud stopped", self.describe(), exc_info=True)
            else:
                log.exception("%s: processing a batch failed", self.describe())
        finally:
            with self._lock:
                self._in_flight -= 1
            self._slots.release()
            self._activity.bump()

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        self._queue.delete([m["ReceiptHandle"] for m in messages])

    def _make_visible(self, messages: list[dict[str, Any]]) -> None:
        requested = max(0.0, self.redelivery_delay or 0.0)
        delay = math.ceil(requested)
        if 0 < requested < 1:
            # A visibility timeout is whole seconds: a shorter delay is waited out here (the batch
            # still counts as in progress), then the messages are made visible at once.
            if self._stop.wait(requested):
                return
            delay = 0
        self._queue.make_visible([m["ReceiptHandle"] for m in messages], delay)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        record: dict[str, Any] = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message.get("Body", ""),
            "attributes": {key: attributes[key] for key in SQS_RECORD_ATTRIBUTES if key in attributes},
            "messageAttributes": {
                name: _message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.region,
        }
        if message.get("MD5OfMessageAttributes"):
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as Lambda's record carries it (moto keeps binary values as bytes)."""
    attribute: dict[str, Any] = {}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    attribute["stringListValues"] = value.get("StringListValues", [])
    attribute["binaryListValues"] = [base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])]
    attribute["dataType"] = value.get("DataType", "String")
    return attribute
