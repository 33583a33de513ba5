"""Redrive: give every message parked in a dead-letter queue back to whatever can process it.

Each DLQ holds a different kind of message (ops/topology.py); each has its own way back. A
message leaves its DLQ only after its way back succeeded, so a failure leaves it where it was
(visible again once the receive's visibility timeout passes). Every consumer, the relay and
the bus's rules are idempotent, so a redriven message that had in fact been processed
changes nothing.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ops.checker.reading import queue_depth
from ops.clients import Clients
from ops.resources import ORDERS_TABLE, PAYMENT_WORKFLOW, RELAY_FUNCTION, SAGA_STATE_MACHINE, Resources
from ops.topology import DEAD_LETTER_QUEUES, DeadLetterKind, DeadLetterQueue

# Long enough that a message that failed its way back is not received twice in one run.
VISIBILITY_TIMEOUT = 60
# DynamoDB Streams may answer empty pages before the records it still holds.
_MAX_EMPTY_STREAM_PAGES = 5
_EXPIRED = {"TrimmedDataAccessException", "ExpiredIteratorException", "ResourceNotFoundException"}


class RedriveError(RuntimeError):
    """This message could not be sent back; it stays in its DLQ."""


class RecordsExpired(RedriveError):
    """The stream no longer holds the records a relay DLQ message points to (24-hour retention)."""


class Superseded(RedriveError):
    """The way back failed but parked the message again as a new one: the old one can go."""


# Saga errors whose Fail state is reached only after the saga parked its input again.
_SAGA_PARKED = frozenset({"CompensationFailed", "OrderNotRecorded"})


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
        return lambda message: _send(clients.sqs, source, message["Body"], _attributes(message))
    if dlq.kind is DeadLetterKind.EVENT_DELIVERY:
        bus = resources.bus_name()
        return lambda message: _redeliver_event(clients, bus, message)
    if dlq.kind is DeadLetterKind.SAGA_INPUT:
        saga = resources.state_machine_arn(SAGA_STATE_MACHINE, clients.stepfunctions)
        orders = resources.table(ORDERS_TABLE)
        runner = clients.saga_runner or clients.stepfunctions
        return lambda message: _rerun_saga(runner, clients.dynamodb, orders, saga, message)
    if dlq.kind is DeadLetterKind.WORKFLOW_INPUT:
        workflow = resources.state_machine_arn(PAYMENT_WORKFLOW, clients.stepfunctions)
        return lambda message: _restart_workflow(clients.stepfunctions, workflow, message)
    function = resources.function_name(RELAY_FUNCTION)
    return lambda message: _rerun_stream_batch(clients, function, message)


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


def _send(sqs: Any, url: str, body: str, attributes: dict[str, Any] | None = None) -> None:
    kwargs: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
    if attributes:
        kwargs["MessageAttributes"] = attributes
    sqs.send_message(**kwargs)


# --- EventBridge: the delivery DLQ ------------------------------------------


def _put_events(events: Any, entry: dict[str, Any]) -> None:
    response = events.put_events(Entries=[entry])
    if response.get("FailedEntryCount"):
        failed = response["Entries"][0]
        raise RedriveError(f"PutEvents refused: {failed.get('ErrorCode')} {failed.get('ErrorMessage')}")


def _string_attribute(message: dict[str, Any], name: str) -> str | None:
    value = (message.get("MessageAttributes") or {}).get(name) or {}
    return value.get("StringValue")


def _redeliver_event(clients: Clients, bus: str, message: dict[str, Any]) -> None:
    """To the target EventBridge could not reach (TARGET_ARN) if it is a queue; else onto the bus."""
    target = _string_attribute(message, "TARGET_ARN") or ""
    if target.startswith("arn:") and target.split(":")[2] == "sqs":
        _, _, _, _, account, name = target.split(":", 5)
        url = clients.sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        # The body is the event exactly as the rule would have delivered it; the failure
        # attributes describe the delivery, not the event, so they stay behind.
        _send(clients.sqs, url, message["Body"])
        return
    event = json.loads(message["Body"])
    entry: dict[str, Any] = {
        "EventBusName": bus,
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
    }
    if event.get("time"):
        entry["Time"] = datetime.fromisoformat(str(event["time"]))
    if event.get("resources"):
        entry["Resources"] = event["resources"]
    _put_events(clients.events, entry)


# --- parked saga and payment workflow inputs -------------------------------------------------------


def _parked_input(message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    parked = json.loads(message["Body"])
    if not isinstance(parked, dict) or not parked.get("order_id"):
        raise RedriveError("not a parked workflow input (no order_id)")
    parked.pop("failed_state", None)  # where it failed; not part of the workflow's input
    return str(parked["order_id"]), parked


def _execution_name(order_id: str) -> str:
    # Standard executions keep their names 90 days, so a re-run needs a new one.
    return f"{order_id}-redrive-{uuid.uuid4().hex[:12]}"[:80]


# How long a saga execution holds its order (the saga's 4-minute timeout plus a margin), as the
# orders API's lease: no other execution starts for an undecided order before it runs out.
SAGA_LEASE_SECONDS = 270


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def claim_saga_lease(dynamodb: Any, table: str, order_id: str, now: datetime | None = None) -> bool:
    """Take the order's saga lease if it is undecided and no execution holds it (True), or if it is
    already decided (True: a re-run only answers, or finishes the compensation). False while an
    execution may still run it."""
    moment = now or datetime.now(UTC)
    try:
        dynamodb.update_item(
            TableName=table,
            Key={"order_id": {"S": order_id}},
            UpdateExpression="SET #deadline = :until",
            ConditionExpression=(
                "attribute_not_exists(order_id) OR #rank >= :terminal "
                "OR attribute_not_exists(#deadline) OR #deadline < :now"
            ),
            ExpressionAttributeNames={"#deadline": "deadline", "#rank": "status_rank"},
            ExpressionAttributeValues={
                ":until": {"S": _iso(moment + timedelta(seconds=SAGA_LEASE_SECONDS))},
                ":now": {"S": _iso(moment)},
                ":terminal": {"N": "9"},
            },
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _rerun_saga(stepfunctions: Any, dynamodb: Any, orders_table: str, arn: str, message: dict[str, Any]) -> None:
    """Run the saga again from its input; every step is idempotent, so it finishes what it started.

    Only one execution per order: an undecided order whose lease an execution still holds is
    left for later (the message stays), and the start is never retried by the SDK."""
    order_id, parked = _parked_input(message)
    if not claim_saga_lease(dynamodb, orders_table, order_id):
        raise RedriveError(f"a saga execution may still be running order {order_id}; redrive it after its lease")
    response = stepfunctions.start_sync_execution(
        stateMachineArn=arn, name=_execution_name(order_id), input=json.dumps(parked)
    )
    status = response.get("status")
    if status == "SUCCEEDED":
        return
    error, cause = response.get("error"), response.get("cause")
    if error in _SAGA_PARKED:
        raise Superseded(f"saga for {order_id} failed again ({error}) and parked its input anew: {cause}")
    raise RedriveError(f"saga for {order_id} {status}: {error}: {cause}")


def _restart_workflow(stepfunctions: Any, arn: str, message: dict[str, Any]) -> None:
    """Start the payment workflow again; if it cannot finish this time, it parks itself again."""
    order_id, parked = _parked_input(message)
    stepfunctions.start_execution(stateMachineArn=arn, name=_execution_name(order_id), input=json.dumps(parked))


# --- the relay: stream batches -------------------------------------------------------------------


def _rerun_stream_batch(clients: Clients, function: str, message: dict[str, Any]) -> None:
    info = json.loads(message["Body"]).get("DDBStreamBatchInfo")
    if not isinstance(info, dict):
        raise RedriveError("not a DynamoDB stream on-failure record (no DDBStreamBatchInfo)")
    records = read_stream_batch(clients.dynamodbstreams, info)
    event = {"Records": [_lambda_record(r, info["streamArn"]) for r in records]}
    response = clients.lambda_.invoke(
        FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(event).encode()
    )
    payload = response["Payload"].read() if hasattr(response.get("Payload"), "read") else response.get("Payload")
    answer = json.loads(payload or b"null")
    if response.get("FunctionError"):
        detail = answer.get("errorMessage") if isinstance(answer, dict) else answer
        raise RedriveError(f"{function} failed: {response['FunctionError']}: {detail}")
    failures = answer.get("batchItemFailures") if isinstance(answer, dict) else None
    if failures:
        raise RedriveError(f"{function} failed {len(failures)} of {len(records)} record(s) again")


def read_stream_batch(streams: Any, info: dict[str, Any]) -> list[dict[str, Any]]:
    """The records startSequenceNumber..endSequenceNumber of the shard, read back from the stream."""
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    where = f"{info.get('shardId')} {start}..{end}"
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=info["streamArn"],
            ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=str(start),
        )["ShardIterator"]
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _EXPIRED:
            raise RecordsExpired(f"records {where} expired from the stream: {error}") from error
        raise
    records: list[dict[str, Any]] = []
    empty = 0
    while iterator and empty < _MAX_EMPTY_STREAM_PAGES:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        batch = page.get("Records", [])
        empty = 0 if batch else empty + 1
        for record in batch:
            sequence = int(record["dynamodb"]["SequenceNumber"])
            if sequence > end:
                return _complete(records, start, where)
            if sequence >= start:
                records.append(record)
        if records and int(records[-1]["dynamodb"]["SequenceNumber"]) == end:
            break
        iterator = page.get("NextShardIterator")
    return _complete(records, start, where)


def _complete(records: list[dict[str, Any]], start: int, where: str) -> list[dict[str, Any]]:
    if not records or int(records[0]["dynamodb"]["SequenceNumber"]) != start:
        raise RecordsExpired(
            f"records {where} are no longer in the stream (24-hour retention); "
            "the orders they belong to need their events re-announced by hand"
        )
    return records


def _lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda's event source mapping delivers it."""
    lambda_record = _jsonable(record)
    lambda_record["eventSourceARN"] = stream_arn
    return lambda_record


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()  # Lambda's ApproximateCreationDateTime is epoch seconds
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()  # B / BS values travel base64-encoded
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_jsonable(v) for v in value]
    return value
