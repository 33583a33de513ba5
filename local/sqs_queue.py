"""SQS as Lambda's pollers see it: moto's queue itself, in the process that holds it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from local.patches.sqs import wake_long_polls
from local.patches.state import as_local_request


class QueueOfTheService:
    """The poller's side of SQS: moto's queue itself, not its HTTP API.

    Lambda's pollers are part of the service, and the local cloud's pollers run in the process
    that holds moto's queues: going through HTTP cost a botocore request, a server thread's
    parsing and moto's response serializer for every receive, a fifth of the runner's CPU under
    load. The calls are the backend's own (`receive_message` with its visibility timeout, receive
    count, long poll and redrive to the dead-letter queue; `delete_message`;
    `change_message_visibility`) and count as the local cloud's requests (its meter sees them).
    The messages come back as `ReceiveMessage` answers them, all system attributes asked for.
    """

    def __init__(self, account_id: str, region: str, queue_name: str) -> None:
        self.account_id, self.region, self.queue_name = account_id, region, queue_name

    def _backend(self) -> Any:
        from moto.sqs.models import sqs_backends

        return sqs_backends[self.account_id][self.region]

    def receive(self, wait_seconds: int, count: int) -> list[dict[str, Any]]:
        backend = self._backend()
        queue = backend.get_queue(self.queue_name)
        with as_local_request():
            messages = backend.receive_message(
                self.queue_name, max(1, min(10, count)), wait_seconds, int(queue.visibility_timeout), ["All"]
            )
        return [_as_received(message) for message in messages]

    def delete(self, receipt_handles: list[str]) -> None:
        self._in_batches(self._backend().delete_message_batch, receipt_handles, {})

    def make_visible(self, receipt_handles: list[str], delay: int) -> None:
        self._in_batches(self._backend().change_message_visibility_batch, receipt_handles, {"VisibilityTimeout": delay})

    def _in_batches(self, call: Callable[..., Any], receipt_handles: list[str], extra: dict[str, Any]) -> None:
        """A batch call per ten receipt handles (SQS's batch limit), as the local cloud's request."""
        with as_local_request():
            for start in range(0, len(receipt_handles), 10):
                chunk = receipt_handles[start : start + 10]
                call(self.queue_name, [{"Id": str(i), "ReceiptHandle": h, **extra} for i, h in enumerate(chunk)])

    def wake(self) -> None:
        """Ends a long poll in progress (the cloud is stopping)."""
        with contextlib.suppress(Exception):  # a queue already gone has no poll to end
            wake_long_polls(self._backend().get_queue(self.queue_name))


def _as_received(message: Any) -> dict[str, Any]:
    """A moto message as `ReceiveMessage` answers it (moto's SQSResponse.receive_message)."""
    received: dict[str, Any] = {
        "MessageId": message.id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": message.body_md5,
        "Body": message.body,
    }
    if message.message_attributes:
        received["MessageAttributes"] = message.message_attributes
        received["MD5OfMessageAttributes"] = message.attribute_md5
    attributes = {
        "SenderId": message.sender_id,
        "SentTimestamp": str(message.sent_timestamp),
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
    }
    if message.deduplication_id is not None:
        attributes["MessageDeduplicationId"] = message.deduplication_id
    if message.group_id is not None:
        attributes["MessageGroupId"] = message.group_id
    trace = (message.system_attributes or {}).get("AWSTraceHeader")
    if trace and trace.get("StringValue"):
        attributes["AWSTraceHeader"] = trace["StringValue"]
    if message.sequence_number is not None:
        attributes["SequenceNumber"] = message.sequence_number
    received["Attributes"] = attributes
    return received
