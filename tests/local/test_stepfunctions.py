"""Step Functions: Retry on a named error, Catch, StartSyncExecution, Standard executions."""

from __future__ import annotations

import json
from typing import Any

import botocore.exceptions
import pytest
import requests


def express_arn(cloud: Any) -> str:
    return cloud.find(type="AWS::StepFunctions::StateMachine", path_contains="ExpressFlow").arn


def attempts(cloud: Any, key: str) -> int:
    table = cloud.find(type="AWS::DynamoDB::GlobalTable").physical_id
    item = cloud.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": f"flaky#{key}"}})["Item"]
    return int(item["attempts"]["N"])


def test_retry_on_a_named_error_then_success(cloud: Any, unique: str) -> None:
    sfn = cloud.client("stepfunctions")
    result = sfn.start_sync_execution(
        stateMachineArn=express_arn(cloud), name=f"retry-{unique}", input=json.dumps({"key": unique, "fail_times": 1})
    )
    assert result["status"] == "SUCCEEDED", result
    assert json.loads(result["output"]) == {"key": unique, "attempts": 2}
    assert attempts(cloud, unique) == 2
    assert result["name"] == f"retry-{unique}"
    assert result["stateMachineArn"] == express_arn(cloud)
    assert json.loads(result["input"]) == {"key": unique, "fail_times": 1}
    assert result["stopDate"] >= result["startDate"]
    assert result["executionArn"].endswith(f":retry-{unique}")


def test_catch_after_retries_are_exhausted(cloud: Any, unique: str) -> None:
    result = cloud.client("stepfunctions").start_sync_execution(
        stateMachineArn=express_arn(cloud), input=json.dumps({"key": unique, "always_fail": True})
    )
    assert result["status"] == "SUCCEEDED"
    output = json.loads(result["output"])
    assert output["error"]["Error"] == "FlakyError"
    assert json.loads(output["error"]["Cause"])["errorType"] == "FlakyError"
    assert attempts(cloud, unique) == 3  # the first try and MaxAttempts=2 retries


def test_start_sync_execution_is_for_express_machines_only(cloud: Any) -> None:
    standard = cloud.find(type="AWS::StepFunctions::StateMachine", path_contains="StandardFlow").arn
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        cloud.client("stepfunctions").start_sync_execution(stateMachineArn=standard, input="{}")
    assert raised.value.response["Error"]["Code"] == "StateMachineTypeNotSupported"


def test_a_function_starts_the_express_workflow_synchronously(cloud: Any, unique: str) -> None:
    # The handler calls StartSyncExecution with plain boto3: no sync- host prefix, the local endpoint.
    response = requests.post(f"{cloud.api_url}/checkout", json={"key": unique, "fail_times": 0}, timeout=60)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"key": unique, "attempts": 1}


def test_standard_execution_runs_to_completion(cloud: Any, unique: str) -> None:
    sfn = cloud.client("stepfunctions")
    arn = cloud.find(type="AWS::StepFunctions::StateMachine", path_contains="StandardFlow").arn
    execution = sfn.start_execution(stateMachineArn=arn, name=unique, input=json.dumps({"greeting": "hi"}))
    cloud.wait_idle()
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["echo"]["Payload"]["event"] == {"greeting": "hi", "step": "start"}
