"""SQS -> Lambda: Lambda's record format, partial batch failures, redrive to the DLQ."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest


def queue(cloud: Any, name: str) -> Any:
    return cloud.find(type="AWS::SQS::Queue", path_contains=f"/{name}/")


def records_seen(cloud: Any, tag: str) -> list[dict[str, Any]]:
    return [record for record, _ in invocations_seen(cloud, tag)]


def invocations_seen(cloud: Any, tag: str) -> list[tuple[dict[str, Any], str]]:
    """(record, the request id of the invocation it came in) for every record whose body has tag."""
    seen = []
    for line in cloud.logs("BatchFn"):
        if line.startswith('{"msg": "record"'):
            logged = json.loads(line)
            if tag in logged["record"]["body"]:
                seen.append((logged["record"], logged["invocation"]))
    return seen


def drain(cloud: Any, queue_url: str) -> list[dict[str, Any]]:
    sqs = cloud.client("sqs")
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        messages += batch
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def test_partial_batch_failure_retries_only_the_failed_records_then_redrives_them(cloud: Any, unique: str) -> None:
    sqs = cloud.client("sqs")
    bodies = [f"ok-{i}-{unique}" for i in range(3)] + [f"fail-{i}-{unique}" for i in range(2)]
    sqs.send_message_batch(
        QueueUrl=queue(cloud, "WorkQueue").physical_id,
        Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)],
    )
    cloud.wait_idle()
    seen = records_seen(cloud, unique)
    per_message = Counter(record["body"] for record in seen)
    assert {body: per_message[body] for body in bodies if body.startswith("ok")} == dict.fromkeys(bodies[:3], 1)
    # maxReceiveCount is 2: a failing message is delivered twice, then moved to the DLQ.
    assert {body: per_message[body] for body in bodies if body.startswith("fail")} == dict.fromkeys(bodies[3:], 2)
    counts = sorted(int(r["attributes"]["ApproximateReceiveCount"]) for r in seen if r["body"].startswith("fail"))
    assert counts == [1, 1, 2, 2]
    dead = drain(cloud, queue(cloud, "WorkDlq").physical_id)
    assert sorted(m["Body"] for m in dead if unique in m["Body"]) == sorted(bodies[3:])


@pytest.mark.parametrize(
    "prefix",
    [
        "boom",  # the function raises: the whole batch returns
        "bogus",  # the function answers an invalid failure report: the whole batch fails
    ],
)
def test_a_function_error_or_an_invalid_failure_report_fails_the_whole_batch(
    cloud: Any, unique: str, prefix: str
) -> None:
    body = f"{prefix}-{unique}"
    cloud.client("sqs").send_message(QueueUrl=queue(cloud, "WorkQueue").physical_id, MessageBody=body)
    cloud.wait_idle()
    assert len(records_seen(cloud, body)) == 2
    assert [m["Body"] for m in drain(cloud, queue(cloud, "WorkDlq").physical_id)] == [body]


def test_records_arriving_within_the_batching_window_come_as_one_batch(cloud: Any, unique: str) -> None:
    sqs = cloud.client("sqs")
    window_queue = queue(cloud, "WindowQueue").physical_id
    bodies = [f"ok-window-{i}-{unique}" for i in range(3)]
    for body in bodies:  # one every 0.3 s: all within the 2 s window the first one opens
        sqs.send_message(QueueUrl=window_queue, MessageBody=body)
        time.sleep(0.3)
    cloud.wait_idle()
    seen = invocations_seen(cloud, f"window-0-{unique}") + invocations_seen(cloud, f"window-1-{unique}")
    seen += invocations_seen(cloud, f"window-2-{unique}")
    assert sorted(record["body"] for record, _ in seen) == bodies
    assert len({invocation for _, invocation in seen}) == 1, seen


def test_a_batching_window_gathers_no_more_than_the_batch_size(cloud: Any, unique: str) -> None:
    sqs = cloud.client("sqs")
    window_queue = queue(cloud, "WindowQueue").physical_id
    bodies = [f"ok-full-{i}-{unique}" for i in range(10)]
    sqs.send_message_batch(
        QueueUrl=window_queue, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies)]
    )
    cloud.wait_idle()
    seen = [pair for body in bodies for pair in invocations_seen(cloud, body)]
    assert sorted(record["body"] for record, _ in seen) == sorted(bodies)
    batches = Counter(invocation for _, invocation in seen)
    assert sorted(batches.values()) == [5, 5]  # the batch size, twice: each batch full, none bigger


def test_records_have_lambdas_sqs_event_format(cloud: Any, unique: str) -> None:
    work = queue(cloud, "WorkQueue")
    cloud.client("sqs").send_message(
        QueueUrl=work.physical_id,
        MessageBody=f"ok-format-{unique}",
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "test"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    cloud.wait_idle()
    (record,) = records_seen(cloud, f"ok-format-{unique}")
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "md5OfMessageAttributes",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == work.arn
    assert record["awsRegion"] == cloud.region
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(record["attributes"])
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "test",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="
