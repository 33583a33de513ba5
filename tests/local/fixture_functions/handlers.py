"""Tiny handlers for the local runner's test-only stack.

Each one exercises one behaviour of the runner: the API proxy event, environment isolation,
retries, partial batch failures, stream delivery, timeouts and crashes. They talk to AWS only
through boto3 and the environment, exactly as a deployed function would.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

import boto3
import fixture_helper
from aws_lambda_powertools import Logger

logger = Logger()
COLD_START_AT = time.time()


class FlakyError(Exception):
    """A transient fault the state machine retries by name."""


def _context_view(context: Any) -> dict[str, Any]:
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Returns what it received and what it can see; noisy on stdout on purpose."""
    print("not a protocol line {", flush=False)
    sys.stdout.write("a partial line without newline")
    logger.info("echo", extra={"keys": sorted(event) if isinstance(event, dict) else None})
    return {
        "event": event,
        "env": dict(os.environ),
        "context": _context_view(context),
        "helper_file": fixture_helper.__file__,
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "cold_start_at": COLD_START_AT,
    }


def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """An API proxy handler: echoes the proxy event; a few paths misbehave on purpose."""
    path = event.get("path", "")
    if path.endswith("/malformed"):
        return {"statusCode": 200, "body": {"not": "a string"}}
    if path.endswith("/raise"):
        raise ValueError("api handler failed on purpose")
    body = json.dumps({"event": event, "env": dict(os.environ), "context": _context_view(context), "pid": os.getpid()})
    return {
        "statusCode": 201 if event.get("httpMethod") == "POST" else 200,
        "headers": {"Content-Type": "application/json", "X-Echo": "yes"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": body,
    }


def start_sync(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Starts the Express workflow synchronously, like the orders API does for the saga."""
    client = boto3.client("stepfunctions")
    payload = json.loads(event.get("body") or "{}")
    result = client.start_sync_execution(stateMachineArn=os.environ["EXPRESS_ARN"], input=json.dumps(payload))
    answer = {key: result.get(key) for key in ("status", "output", "error", "cause", "executionArn")}
    return {"statusCode": 200, "body": json.dumps(answer)}


def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails with FlakyError the first `fail_times` attempts per key (counted in a table)."""
    table = boto3.resource("dynamodb").Table(os.environ["COUNTERS_TABLE"])
    response = table.update_item(
        Key={"pk": f"flaky#{event['key']}"},
        UpdateExpression="ADD attempts :one",
        ExpressionAttributeValues={":one": 1},
        ReturnValues="UPDATED_NEW",
    )
    attempts = int(response["Attributes"]["attempts"])
    if event.get("always_fail") or attempts <= int(event.get("fail_times", 0)):
        raise FlakyError(f"attempt {attempts} failed")
    return {"key": event["key"], "attempts": attempts}


def batch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Partial batch failer: 'fail' bodies are reported, 'boom' fails the batch, 'bogus' misreports."""
    failures = []
    for record in event["Records"]:
        print(json.dumps({"msg": "record", "record": record, "invocation": context.aws_request_id}))
        if "boom" in record["body"]:
            raise RuntimeError("whole batch fails")
        if "fail" in record["body"]:
            failures.append({"itemIdentifier": record["messageId"]})
        if "bogus" in record["body"]:
            failures.append({"itemIdentifier": "not-a-message-of-this-batch"})
    return {"batchItemFailures": failures}


def recorder(event: dict[str, Any], context: Any) -> dict[str, Any] | None:
    """Records stream records and EventBridge events into RECORDS_TABLE."""
    table = boto3.resource("dynamodb").Table(os.environ["RECORDS_TABLE"])
    if "Records" not in event:
        table.put_item(
            Item={
                "pk": f"event#{event['id']}",
                "detail_type": event["detail-type"],
                "detail": json.dumps(event["detail"]),
            }
        )
        return None
    failures = []
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        new_image = record["dynamodb"].get("NewImage", {})
        print(json.dumps({"msg": "stream", "key": key, "seq": record["dynamodb"]["SequenceNumber"], "record": record}))
        if "poison" in key:
            raise RuntimeError(f"cannot record {key}")
        if "partial" in key and not failures and new_image.get("fail", {}).get("BOOL"):
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
            continue
        table.put_item(
            Item={
                "pk": f"stream#{key}",
                "event_name": record["eventName"],
                "seq": record["dynamodb"]["SequenceNumber"],
                "source": record["eventSourceARN"],
            }
        )
    return {"batchItemFailures": failures}


def put_record(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Writes one item into RECORDS_TABLE: allowed only where the role has the grant."""
    boto3.client("dynamodb").put_item(TableName=os.environ["RECORDS_TABLE"], Item={"pk": {"S": event["pk"]}})
    return {"written": event["pk"]}


def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
    time.sleep(float(event.get("sleep", 0)))
    return {"slept": event.get("sleep", 0)}


def crash(event: dict[str, Any], context: Any) -> None:
    """Dies the way a broken runtime does: exit or a signal."""
    sys.stdout.flush()
    if event.get("signal"):
        os.kill(os.getpid(), signal.SIGSEGV)
    os._exit(int(event.get("code", 3)))


def unserializable(event: dict[str, Any], context: Any) -> object:
    return {"when": object()}
