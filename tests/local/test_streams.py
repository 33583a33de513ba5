"""DynamoDB stream -> Lambda: filters, order, bisect, partial failures, the OnFailure destination."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any


def items_table(cloud: Any) -> str:
    return cloud.find(type="AWS::DynamoDB::Table", path_contains="/ItemsTable/").physical_id


def stream_lines(cloud: Any, tag: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in cloud.logs("Recorder") if line.startswith('{"msg": "stream"')]
    return [line for line in lines if tag in line["key"]]


def recorded(cloud: Any, key: str) -> dict[str, Any] | None:
    return (
        cloud.client("dynamodb")
        .get_item(TableName="local-runner-records", Key={"pk": {"S": f"stream#{key}"}})
        .get("Item")
    )


def failures(cloud: Any, tag: str) -> list[dict[str, Any]]:
    url = cloud.find(type="AWS::SQS::Queue", path_contains="/StreamFailures/").physical_id
    sqs = cloud.client("sqs")
    found = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    mine = {line["seq"] for line in stream_lines(cloud, tag)}
    return [f for f in found if f["DDBStreamBatchInfo"]["startSequenceNumber"] in mine]


def put(key: str, **extra: Any) -> dict[str, Any]:
    return {"Put": {"TableName": "", "Item": {"pk": {"S": key}, **extra}}}


def transact(cloud: Any, entries: list[dict[str, Any]]) -> None:
    table = items_table(cloud)
    for entry in entries:
        entry["Put"]["TableName"] = table
    cloud.client("dynamodb").transact_write_items(TransactItems=entries)


def test_only_inserts_pass_the_filter(cloud: Any, unique: str) -> None:
    dynamodb = cloud.client("dynamodb")
    key = f"plain-{unique}"
    dynamodb.put_item(TableName=items_table(cloud), Item={"pk": {"S": key}, "n": {"N": "1"}})
    dynamodb.update_item(
        TableName=items_table(cloud),
        Key={"pk": {"S": key}},
        UpdateExpression="SET n = :two",
        ExpressionAttributeValues={":two": {"N": "2"}},
    )
    dynamodb.delete_item(TableName=items_table(cloud), Key={"pk": {"S": key}})
    cloud.wait_idle()
    assert [line["record"]["eventName"] for line in stream_lines(cloud, key)] == ["INSERT"]
    assert recorded(cloud, key)["event_name"] == {"S": "INSERT"}


def test_stream_records_have_lambdas_event_format(cloud: Any, unique: str) -> None:
    key = f"format-{unique}"
    cloud.client("dynamodb").put_item(TableName=items_table(cloud), Item={"pk": {"S": key}, "b": {"B": b"\x01"}})
    cloud.wait_idle()
    (line,) = stream_lines(cloud, key)
    record = line["record"]
    stream_arn = cloud.find(type="AWS::DynamoDB::Table", path_contains="/ItemsTable/").attributes["StreamArn"]
    assert record["eventSourceARN"] == stream_arn
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == cloud.region
    assert record["eventVersion"] == "1.1"
    dynamodb = record["dynamodb"]
    assert dynamodb["Keys"] == {"pk": {"S": key}}
    assert dynamodb["NewImage"] == {"pk": {"S": key}, "b": {"B": "AQ=="}}
    assert dynamodb["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(dynamodb["ApproximateCreationDateTime"], (int, float))


def test_a_poison_record_is_bisected_out_and_sent_to_the_failure_destination(cloud: Any, unique: str) -> None:
    transact(cloud, [put(f"good1-{unique}"), put(f"poison-{unique}"), put(f"good2-{unique}")])
    cloud.wait_idle()
    assert recorded(cloud, f"good1-{unique}") and recorded(cloud, f"good2-{unique}")
    assert recorded(cloud, f"poison-{unique}") is None
    (failure,) = failures(cloud, unique)
    poison_seq = stream_lines(cloud, f"poison-{unique}")[0]["seq"]
    info = failure["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (poison_seq, poison_seq, 1)
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["approximateInvokeCount"] == 2  # MaximumRetryAttempts=1
    assert failure["requestContext"]["functionArn"] == cloud.find(path_contains="/Recorder/Resource").arn
    assert failure["responseContext"]["functionError"] == "Unhandled"


def test_a_reported_item_failure_resumes_from_that_record(cloud: Any, unique: str) -> None:
    transact(cloud, [put(f"p1-{unique}"), put(f"partial-{unique}", fail={"BOOL": True}), put(f"p3-{unique}")])
    cloud.wait_idle()
    deliveries = Counter(line["key"] for line in stream_lines(cloud, unique))
    assert deliveries[f"p1-{unique}"] == 1  # before the failed record: checkpointed, never redelivered
    assert deliveries[f"partial-{unique}"] == 2
    assert recorded(cloud, f"partial-{unique}") is None
    (failure,) = failures(cloud, unique)
    partial_seq = stream_lines(cloud, f"partial-{unique}")[0]["seq"]
    assert failure["DDBStreamBatchInfo"]["startSequenceNumber"] == partial_seq
    assert "functionError" not in failure["responseContext"]


def test_a_cancelled_transaction_leaves_no_records_and_the_stream_keeps_flowing(cloud: Any, unique: str) -> None:
    dynamodb = cloud.client("dynamodb")
    table = items_table(cloud)
    dynamodb.put_item(TableName=table, Item={"pk": {"S": f"exists-{unique}"}})
    cancelled = [
        {"Put": {"TableName": table, "Item": {"pk": {"S": f"phantom-{unique}"}}}},
        {
            "Put": {
                "TableName": table,
                "Item": {"pk": {"S": f"exists-{unique}"}},
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        },
    ]
    try:
        dynamodb.transact_write_items(TransactItems=cancelled)
        raise AssertionError("the transaction should have been cancelled")
    except dynamodb.exceptions.TransactionCanceledException as error:
        codes = [reason["Code"] for reason in error.response["CancellationReasons"]]
        assert codes == ["None", "ConditionalCheckFailed"]
    dynamodb.put_item(TableName=table, Item={"pk": {"S": f"after-{unique}"}})
    cloud.wait_idle()
    assert recorded(cloud, f"after-{unique}") is not None  # the poller still reads the live shard
    assert not stream_lines(cloud, f"phantom-{unique}")
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"pk": {"S": f"phantom-{unique}"}})
