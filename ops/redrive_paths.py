"""The ways back out of a DLQ that are more than a send to a queue: an event put on the bus again, a
parked saga run again under its lease, a payment workflow restarted, a relay stream batch re-read
and handed to the relay again. Each raises a `RedriveError` when the message must stay parked."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ops.clients import Clients

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


def send(sqs: Any, url: str, body: str, attributes: dict[str, Any] | None = None) -> None:
    """Sends a message body (with its attributes, if given) to a queue."""
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


def redeliver_event(clients: Clients, bus: str, message: dict[str, Any]) -> None:
    """To the target EventBridge could not reach (TARGET_ARN) if it is a queue; else onto the bus."""
    target = _string_attribute(message, "TARGET_ARN") or ""
    if target.startswith("arn:") and target.split(":")[2] == "sqs":
        _, _, _, _, account, name = target.split(":", 5)
        url = clients.sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        # The body is the event exactly as the rule would have delivered it; the failure
        # attributes describe the delivery, not the event, so they stay behind.
        send(clients.sqs, url, message["Body"])
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


def rerun_saga(stepfunctions: Any, dynamodb: Any, orders_table: str, arn: str, message: dict[str, Any]) -> None:
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


def restart_workflow(stepfunctions: Any, arn: str, message: dict[str, Any]) -> None:
    """Start the payment workflow again; if it cannot finish this time, it parks itself again."""
    order_id, parked = _parked_input(message)
    stepfunctions.start_execution(stateMachineArn=arn, name=_execution_name(order_id), input=json.dumps(parked))


# --- the relay: stream batches -------------------------------------------------------------------


def rerun_stream_batch(clients: Clients, function: str, message: dict[str, Any]) -> None:
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
