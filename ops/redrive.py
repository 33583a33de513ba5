"""Redrive: give every message parked in a dead-letter queue back to whatever can process it.

Each DLQ holds a different kind of message (ops/topology.py); each has its own way back. A
message leaves its DLQ only after its way back succeeded, so a failure leaves it where it was
(visible again once the receive's visibility timeout passes). Every consumer, the relay and
the bus's rules are idempotent, so a redriven message that had in fact been processed
changes nothing. The ways back that are more than a send to a queue: ops.redrive_paths.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ops.checker.reading import queue_depth
from ops.clients import Clients
from ops.redrive_paths import (
    RedriveError,
    Superseded,
    redeliver_event,
    rerun_saga,
    rerun_stream_batch,
    restart_workflow,
    send,
)
from ops.resources import ORDERS_TABLE, PAYMENT_WORKFLOW, RELAY_FUNCTION, SAGA_STATE_MACHINE, Resources
from ops.topology import DEAD_LETTER_QUEUES, DeadLetterKind, DeadLetterQueue

# Long enough that a message that failed its way back is not received twice in one run.
VISIBILITY_TIMEOUT = 60


@dataclass
class RedriveResult:
    name: str
    destination: str
    waiting: int = 0  # messages in the DLQ before the run
    moved: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


Progress = Callable[[str, int], None]  # (dlq name, messages handled so far)
_Handler = Callable[[dict[str, Any]], None]


def redrive(
    clients: Clients,
    resources: Resources,
    names: Iterable[str],
    *,
    dry_run: bool = False,
    wait_seconds: int = 1,
    progress: Progress | None = None,
) -> dict[str, RedriveResult]:
    """Redrive the named DLQs (names of `OrderflowStack.dead_letter_queues()`); returns one result each."""
    selected = list(names)
    unknown = [n for n in selected if n not in DEAD_LETTER_QUEUES]
    if unknown:
        raise ValueError(f"unknown DLQ {', '.join(unknown)}; known: {', '.join(DEAD_LETTER_QUEUES)}")
    results: dict[str, RedriveResult] = {}
    for name in selected:
        dlq = DEAD_LETTER_QUEUES[name]
        url = resources.queue_url(dlq.prefix, clients.sqs)
        result = RedriveResult(name=name, destination=dlq.destination, waiting=queue_depth(clients.sqs, url))
        results[name] = result
        if dry_run or not result.waiting:
            continue
        handler = _handler(clients, resources, dlq, url)
        _drain(clients.sqs, url, handler, result, wait_seconds=wait_seconds, progress=progress)
    return results


# --- draining a DLQ ------------------------------------------------------------------------------


def _drain(
    sqs: Any, url: str, handler: _Handler, result: RedriveResult, *, wait_seconds: int, progress: Progress | None
) -> None:
    # Messages sent after the run started were parked again by a failed way back; they wait
    # for the next run instead of looping this one.
    started_ms = int(time.time() * 1000)
    seen: set[str] = set()
    while True:
        batch = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=VISIBILITY_TIMEOUT,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["SentTimestamp"],
        ).get("Messages", [])
        if not batch:
            return
        # A message received again (its visibility ran out after a failure) or parked anew
        # stays hidden by this receive until the timeout; the loop ends once all are hidden.
        for message in (m for m in batch if m["MessageId"] not in seen and _sent_ms(m) <= started_ms):
            seen.add(message["MessageId"])
            _redrive_one(sqs, url, handler, message, result)
            if progress:
                progress(result.name, result.moved + result.failed)


def _sent_ms(message: dict[str, Any]) -> int:
    return int((message.get("Attributes") or {}).get("SentTimestamp", 0))


def _redrive_one(sqs: Any, url: str, handler: _Handler, message: dict[str, Any], result: RedriveResult) -> None:
    try:
        handler(message)
    except Superseded as error:
        result.failed += 1
        result.errors.append(f"{message['MessageId']}: {error}")
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return
    except (RedriveError, ClientError, ValueError, KeyError, TypeError) as error:
        result.failed += 1
        result.errors.append(f"{message['MessageId']}: {error}")
        return
    # Only now: a way back that failed must leave the message where it was.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    result.moved += 1


def _handler(clients: Clients, resources: Resources, dlq: DeadLetterQueue, url: str) -> _Handler:
    if dlq.kind is DeadLetterKind.CONSUMER:
        source = _source_queue(clients.sqs, resources, dlq, url)
        return lambda message: send(clients.sqs, source, message["Body"], _attributes(message))
    if dlq.kind is DeadLetterKind.EVENT_DELIVERY:
        bus = resources.bus_name()
        return lambda message: redeliver_event(clients, bus, message)
    if dlq.kind is DeadLetterKind.SAGA_INPUT:
        saga = resources.state_machine_arn(SAGA_STATE_MACHINE, clients.stepfunctions)
        orders = resources.table(ORDERS_TABLE)
        runner = clients.saga_runner or clients.stepfunctions
        return lambda message: rerun_saga(runner, clients.dynamodb, orders, saga, message)
    if dlq.kind is DeadLetterKind.WORKFLOW_INPUT:
        workflow = resources.state_machine_arn(PAYMENT_WORKFLOW, clients.stepfunctions)
        return lambda message: restart_workflow(clients.stepfunctions, workflow, message)
    function = resources.function_name(RELAY_FUNCTION)
    return lambda message: rerun_stream_batch(clients, function, message)


def _source_queue(sqs: Any, resources: Resources, dlq: DeadLetterQueue, url: str) -> str:
    """The queue whose redrive policy names this DLQ; else the CDK sibling `XQueue` of `XDeadLetterQueue`."""
    try:
        sources = sqs.list_dead_letter_source_queues(QueueUrl=url).get("queueUrls", [])
    except ClientError:
        sources = []
    if len(sources) == 1:
        return str(sources[0])
    if dlq.source_prefix is None:
        raise RedriveError(f"{dlq.name}: no source queue")
    return resources.queue_url(dlq.source_prefix, sqs)


def _attributes(message: dict[str, Any]) -> dict[str, Any]:
    """Message attributes as SendMessage takes them (ReceiveMessage adds list fields it rejects)."""
    kept: dict[str, Any] = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        kept[name] = {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
    return kept
