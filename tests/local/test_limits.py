"""AWS's payload size limits: the local cloud refuses what AWS refuses, with AWS's error."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from local import limits

MIB = 1024 * 1024


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = raised.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


# -- Lambda ----------------------------------------------------------------------------------


def test_a_synchronous_invocation_over_6_mb_is_refused(cloud: Any) -> None:
    client = cloud.client("lambda")
    payload = json.dumps({"blob": "x" * (6 * MIB)}).encode()
    with pytest.raises(ClientError) as raised:
        client.invoke(FunctionName=cloud.function_name("EchoA"), Payload=payload)
    assert _error(raised) == (
        "RequestEntityTooLargeException",
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
        413,
    )


def test_a_response_over_6_mb_is_the_response_size_error(cloud: Any) -> None:
    # The API handler echoes its event inside a JSON body: every quote doubles twice (\\\").
    event = {"path": "/items", "httpMethod": "GET", "body": '"' * (1_700_000)}
    response = cloud.client("lambda").invoke(FunctionName=cloud.function_name("ApiFn"), Payload=json.dumps(event))
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read()) == {
        "errorMessage": "Response payload size exceeded maximum allowed payload size (6291556 bytes).",
        "errorType": "Function.ResponseSizeTooLarge",
    }
    # A response just under moto's own approximate limit of 6,000,000 bytes is fine.
    event["body"] = '"' * 1_400_000
    response = cloud.client("lambda").invoke(FunctionName=cloud.function_name("ApiFn"), Payload=json.dumps(event))
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read())["statusCode"] == 200


def test_an_asynchronous_invocation_over_1_mb_is_refused_and_one_over_256_kb_is_not(cloud: Any) -> None:
    client = cloud.client("lambda")
    name = cloud.function_name("EchoA")
    accepted = client.invoke(
        FunctionName=name, InvocationType="Event", Payload=json.dumps({"blob": "x" * 300_000}).encode()
    )
    assert accepted["StatusCode"] == 202
    payload = json.dumps({"blob": "x" * MIB}).encode()
    with pytest.raises(ClientError) as raised:
        client.invoke(FunctionName=name, InvocationType="Event", Payload=payload)
    assert _error(raised) == (
        "RequestEntityTooLargeException",
        f"{len(payload)} byte payload is too large for the Event invocation type (limit 1048576 bytes)",
        413,
    )
    cloud.wait_idle()


def test_cloud_invoke_refuses_an_event_over_6_mb(cloud: Any) -> None:
    with pytest.raises(limits.RequestEntityTooLarge, match="6291456 bytes"):
        cloud.invoke("EchoA", {"blob": "x" * (6 * MIB)})


# -- API Gateway -----------------------------------------------------------------------------


def test_the_api_refuses_a_proxy_event_over_lambdas_limit_and_answers_502_for_a_large_response(
    cloud: Any,
) -> None:
    # Under API Gateway's 10 MB, over Lambda's 6 MB once it is the proxy event.
    response = requests.post(f"{cloud.api_url}/items", data=b"x" * (7 * MIB), timeout=60)
    assert response.status_code == 413
    assert response.json() == {"message": "Request Too Long"}
    assert response.headers["x-amzn-ErrorType"] == "RequestTooLargeException"
    response = requests.post(f"{cloud.api_url}/items", data=b'"' * 1_700_000, timeout=60)
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}


# -- SQS -------------------------------------------------------------------------------------


@pytest.fixture
def queue_url(cloud: Any) -> Any:
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName=f"limits-{uuid.uuid4().hex[:10]}")["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


def test_an_sqs_message_over_1_mib_is_refused_counting_utf8_bytes_and_attributes(cloud: Any, queue_url: str) -> None:
    sqs = cloud.client("sqs")
    sqs.send_message(QueueUrl=queue_url, MessageBody="x" * MIB)  # exactly the limit
    expected = "One or more parameters are invalid. Reason: Message must be shorter than 1048576 bytes."
    for body, attributes in (
        ("x" * (MIB + 1), {}),
        ("é" * (MIB // 2 + 1), {}),  # fewer characters than the limit, more bytes
        ("x" * (MIB - 10), {"trace": {"DataType": "String", "StringValue": "0123456789"}}),
    ):
        with pytest.raises(ClientError) as raised:
            sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageAttributes=attributes)
        code, message, _ = _error(raised)
        assert code in ("InvalidParameterValue", "InvalidParameterValueException")
        assert message == expected
    small_queue = sqs.create_queue(
        QueueName=f"limits-{uuid.uuid4().hex[:10]}", Attributes={"MaximumMessageSize": "1024"}
    )
    try:
        with pytest.raises(ClientError, match="shorter than 1024 bytes"):
            sqs.send_message(QueueUrl=small_queue["QueueUrl"], MessageBody="x" * 1025)
    finally:
        sqs.delete_queue(QueueUrl=small_queue["QueueUrl"])


def test_an_sqs_batch_over_1_mib_in_all_is_refused(cloud: Any, queue_url: str) -> None:
    sqs = cloud.client("sqs")
    entries = [{"Id": str(index), "MessageBody": "é" * 300_000} for index in range(2)]
    with pytest.raises(ClientError) as raised:
        sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    code, message, _ = _error(raised)
    assert code in ("BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong")
    assert message == "Batch requests cannot be longer than 1048576 bytes. You have sent 1200000 bytes."
    accepted = sqs.send_message_batch(QueueUrl=queue_url, Entries=[{"Id": "a", "MessageBody": "x" * 500_000}])
    assert len(accepted["Successful"]) == 1


# -- EventBridge -----------------------------------------------------------------------------


def test_put_events_over_1_mb_in_all_is_refused_as_a_whole(cloud: Any) -> None:
    events = cloud.client("events")
    source = f"test.limits.{uuid.uuid4().hex[:8]}"  # no rule matches it

    def entry(detail_bytes: int) -> dict[str, str]:
        padding = "x" * (detail_bytes - len(json.dumps({"p": ""})))
        return {"Source": source, "DetailType": "Big", "Detail": json.dumps({"p": padding})}

    overhead = len(source) + len("Big")
    exact = events.put_events(Entries=[entry(MIB - overhead)])  # exactly 1,048,576 bytes
    assert exact["FailedEntryCount"] == 0
    for entries in ([entry(MIB - overhead + 1)], [entry(600_000), entry(600_000)]):
        with pytest.raises(ClientError) as raised:
            events.put_events(Entries=entries)
        code, message, status = _error(raised)
        assert (code, message, status) == (
            "ValidationException",
            "Total size of the entries in the request is over the limit.",
            400,
        )
    assert limits.put_events_size([{**entry(100), "Time": 0, "Resources": ["abc"]}]) == 100 + overhead + 14 + 3


# -- Step Functions --------------------------------------------------------------------------


def _wait_finished(sfn: Any, execution_arn: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.1)


def test_execution_input_over_256_kib_is_refused(cloud: Any, unique: str) -> None:
    sfn = cloud.client("stepfunctions")
    standard = cloud.find(type="AWS::StepFunctions::StateMachine", path_contains="StandardFlow").arn
    express = cloud.find(type="AWS::StepFunctions::StateMachine", path_contains="ExpressFlow").arn
    big = json.dumps({"greeting": "x" * (256 * 1024)})
    for call in (
        lambda: sfn.start_execution(stateMachineArn=standard, name=unique, input=big),
        lambda: sfn.start_sync_execution(stateMachineArn=express, input=big),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        code, message, _ = _error(raised)
        assert code == "ValidationException"
        assert message.endswith("Member must have length less than or equal to 262144")


def test_a_state_output_over_256_kib_fails_the_execution_with_data_limit_exceeded(cloud: Any, unique: str) -> None:
    sfn = cloud.client("stepfunctions")
    arn = cloud.find(type="AWS::StepFunctions::StateMachine", path_contains="StandardFlow").arn
    # CallEcho puts the echo of its 150 KB input under $.echo: its output is over 256 KiB.
    execution = sfn.start_execution(stateMachineArn=arn, name=unique, input=json.dumps({"greeting": "x" * 150_000}))
    described = _wait_finished(sfn, execution["executionArn"])
    assert described["status"] == "FAILED"
    assert described["error"] == "States.DataLimitExceeded"
    assert "size exceeding the maximum number of bytes service limit" in described["cause"]


def test_states_all_does_not_catch_data_limit_exceeded(cloud: Any, unique: str) -> None:
    sfn = cloud.client("stepfunctions")
    echo = cloud.find(type="AWS::Lambda::Function", path_contains="/EchoA/").arn
    definition = {
        "StartAt": "Echo",
        "States": {
            "Echo": {
                "Type": "Task",
                "Resource": echo,
                "ResultPath": "$.echo",
                "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    machine = sfn.create_state_machine(
        name=f"limits-{unique}",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{cloud.account_id}:role/limits",
    )["stateMachineArn"]
    try:
        execution = sfn.start_execution(
            stateMachineArn=machine, name=f"big-{unique}", input=json.dumps({"blob": "x" * 150_000})
        )
        described = _wait_finished(sfn, execution["executionArn"])
        assert described["status"] == "FAILED"
        assert described["error"] == "States.DataLimitExceeded"
        history = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
        assert sum(event["type"] == "TaskStateEntered" for event in history) == 1  # no retry, no catch
        small = sfn.start_execution(
            stateMachineArn=machine, name=f"small-{unique}", input=json.dumps({"blob": "x" * 1000})
        )
        assert _wait_finished(sfn, small["executionArn"])["status"] == "SUCCEEDED"
    finally:
        sfn.delete_state_machine(stateMachineArn=machine)


# -- DynamoDB --------------------------------------------------------------------------------


def test_a_dynamodb_item_over_400_kb_is_refused(cloud: Any, unique: str) -> None:
    table = cloud.physical_id(cloud.find(type="AWS::DynamoDB::Table", path_contains="RecordsTable").logical_id)
    dynamodb = cloud.client("dynamodb")
    dynamodb.put_item(TableName=table, Item={"pk": {"S": f"small#{unique}"}, "blob": {"S": "x" * 300_000}})
    for item in (
        {"pk": {"S": f"big#{unique}"}, "blob": {"S": "x" * 410_000}},
        {"pk": {"S": f"bin#{unique}"}, "blob": {"B": base64.b64decode(base64.b64encode(b"y" * 410_000))}},
    ):
        with pytest.raises(ClientError) as raised:
            dynamodb.put_item(TableName=table, Item=item)
        code, message, _ = _error(raised)
        assert code == "ValidationException"
        assert message == "Item size has exceeded the maximum allowed size"
