"""EventBridge: rules deliver to a queue (moto), to a function and to a state machine (the runner)."""

from __future__ import annotations

import json
from typing import Any


def publish(cloud: Any, detail_type: str, detail: dict[str, Any]) -> str:
    response = cloud.client("events").put_events(
        Entries=[
            {
                "EventBusName": "local-runner-bus",
                "Source": "test.items",
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
            }
        ]
    )
    assert response["FailedEntryCount"] == 0
    return response["Entries"][0]["EventId"]


def test_a_rule_feeds_its_queue_with_the_full_event(cloud: Any, unique: str) -> None:
    event_id = publish(cloud, "ItemCreated", {"item": unique})
    url = cloud.find(type="AWS::SQS::Queue", path_contains="/EventsQueue/").physical_id
    messages = cloud.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    (event,) = [json.loads(m["Body"]) for m in messages if unique in m["Body"]]
    assert event["id"] == event_id
    assert event["source"] == "test.items"
    assert event["detail-type"] == "ItemCreated"
    assert event["detail"] == {"item": unique}
    assert event["account"] == cloud.account_id
    assert event["region"] == cloud.region
    assert event["time"].endswith("Z")


def test_a_rule_invokes_its_function(cloud: Any, unique: str) -> None:
    event_id = publish(cloud, "ItemAudited", {"item": unique})
    cloud.wait_idle()
    item = cloud.client("dynamodb").get_item(TableName="local-runner-records", Key={"pk": {"S": f"event#{event_id}"}})
    assert item["Item"]["detail_type"] == {"S": "ItemAudited"}
    assert json.loads(item["Item"]["detail"]["S"]) == {"item": unique}


def test_a_rule_starts_its_state_machine_with_the_input_path(cloud: Any, unique: str) -> None:
    publish(cloud, "ItemArchived", {"greeting": unique})
    cloud.wait_idle()
    sfn = cloud.client("stepfunctions")
    arn = cloud.find(type="AWS::StepFunctions::StateMachine", path_contains="StandardFlow").arn
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    described = [sfn.describe_execution(executionArn=e["executionArn"]) for e in executions]
    (mine,) = [d for d in described if unique in d["input"]]
    assert json.loads(mine["input"]) == {"greeting": unique}
    assert mine["status"] == "SUCCEEDED"


def test_unmatched_events_go_nowhere(cloud: Any, unique: str) -> None:
    publish(cloud, "SomethingElse", {"item": unique})
    cloud.wait_idle()
    assert not [line for line in cloud.logs("Recorder") if unique in line]
