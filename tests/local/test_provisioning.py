"""Provisioning: every resource of the test stack exists in moto, configured from the template."""

from __future__ import annotations

import json
from typing import Any

import pytest


def table(cloud: Any, path: str) -> dict[str, Any]:
    name = cloud.find(path_contains=f"/{path}/", type="AWS::DynamoDB::Table").physical_id
    return cloud.client("dynamodb").describe_table(TableName=name)["Table"]


def test_tables_keys_indexes_streams_and_ttl(cloud: Any) -> None:
    items = table(cloud, "ItemsTable")
    assert items["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert [index["IndexName"] for index in items["GlobalSecondaryIndexes"]] == ["byKind"]
    assert items["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    ttl = cloud.client("dynamodb").describe_time_to_live(TableName=items["TableName"])
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    # An explicit name is kept; a generated one is <stack>-<logical id>.
    assert table(cloud, "RecordsTable")["TableName"] == "local-runner-records"
    assert items["TableName"] == f"LocalRunnerTest-{cloud.find(path_contains='/ItemsTable/').logical_id}"
    counters = cloud.find(type="AWS::DynamoDB::GlobalTable")  # TableV2
    assert cloud.client("dynamodb").describe_table(TableName=counters.physical_id)["Table"]["TableStatus"] == "ACTIVE"


def test_queues_carry_redrive_policy_and_visibility_timeout(cloud: Any) -> None:
    sqs = cloud.client("sqs")
    work = cloud.find(type="AWS::SQS::Queue", path_contains="/WorkQueue/")
    dlq = cloud.find(type="AWS::SQS::Queue", path_contains="/WorkDlq/")
    attributes = sqs.get_queue_attributes(QueueUrl=work.physical_id, AttributeNames=["All"])["Attributes"]
    assert attributes["VisibilityTimeout"] == "30"
    assert json.loads(attributes["RedrivePolicy"]) == {"deadLetterTargetArn": dlq.arn, "maxReceiveCount": 2}
    assert work.physical_id == sqs.get_queue_url(QueueName=work.name)["QueueUrl"]


def test_bus_rules_targets_and_archive(cloud: Any) -> None:
    events = cloud.client("events")
    assert events.describe_event_bus(Name="local-runner-bus")["Name"] == "local-runner-bus"
    rule = cloud.find(type="AWS::Events::Rule", path_contains="/ItemCreatedRule/")
    assert rule.physical_id == f"local-runner-bus|{rule.name}"  # what CloudFormation's Ref returns
    described = events.describe_rule(Name=rule.name, EventBusName="local-runner-bus")
    assert json.loads(described["EventPattern"]) == {"source": ["test.items"], "detail-type": ["ItemCreated"]}
    targets = events.list_targets_by_rule(Rule=rule.name, EventBusName="local-runner-bus")["Targets"]
    assert [t["Arn"] for t in targets] == [cloud.find(path_contains="/EventsQueue/", type="AWS::SQS::Queue").arn]
    archives = events.list_archives()["Archives"]
    assert any(a["EventSourceArn"].endswith(":event-bus/local-runner-bus") for a in archives)


def test_state_machines_have_resolved_definitions(cloud: Any) -> None:
    sfn = cloud.client("stepfunctions")
    express = sfn.describe_state_machine(stateMachineArn=cloud.find(path_contains="/ExpressFlow/Resource").arn)
    assert express["type"] == "EXPRESS"
    definition = json.loads(express["definition"])
    flaky_arn = cloud.find(type="AWS::Lambda::Function", path_contains="/Flaky/").arn
    assert definition["States"]["CallFlaky"]["Resource"] == flaky_arn
    standard = sfn.describe_state_machine(stateMachineArn=cloud.find(path_contains="/StandardFlow/Resource").arn)
    assert standard["type"] == "STANDARD"


def test_functions_come_from_the_template(cloud: Any) -> None:
    function = cloud.find(type="AWS::Lambda::Function", path_contains="/Slow/")
    configuration = cloud.client("lambda").get_function(FunctionName=function.name)["Configuration"]
    assert configuration["Handler"] == "handlers.slow"
    assert configuration["Timeout"] == 1
    assert configuration["MemorySize"] == 256
    assert configuration["Environment"]["Variables"] == {"POWERTOOLS_SERVICE_NAME": "Slow"}
    assert configuration["Role"] == cloud.find(type="AWS::IAM::Role", path_contains="/Slow/ServiceRole/").arn
    pool = cloud.functions[function.name]
    assert (pool.spec.code_dir / "handlers.py").is_file()


def test_ssm_sns_and_the_api_control_plane(cloud: Any) -> None:
    parameter = cloud.client("ssm").get_parameter(Name="/local-runner/greeting")["Parameter"]
    assert parameter["Value"] == "hello"
    topic = cloud.find(type="AWS::SNS::Topic")
    assert topic.arn in [t["TopicArn"] for t in cloud.client("sns").list_topics()["Topics"]]
    api = cloud.find(type="AWS::ApiGateway::RestApi")
    paths = {r["path"] for r in cloud.client("apigateway").get_resources(restApiId=api.physical_id)["items"]}
    assert {"/items", "/items/{id}", "/items/{id}/files/{proxy+}", "/things"} <= paths


def test_every_resource_is_provisioned_or_knowingly_skipped(cloud: Any) -> None:
    assert not [r for r in cloud.resources.values() if r.logical_id in cloud._provisioner.unresolved]
    skipped = {r.type for r in cloud.resources.values() if not r.emulated}
    assert skipped <= {
        "AWS::IAM::Policy",
        "AWS::Lambda::Permission",
        "AWS::SQS::QueuePolicy",
        "AWS::ApiGateway::Account",
        "AWS::CDK::Metadata",
    }
    template_ids = set(cloud.stack.resources)
    assert set(cloud.resources) == template_ids


def test_lookups(cloud: Any) -> None:
    with pytest.raises(LookupError, match="2 resources match"):
        cloud.find(type="AWS::StepFunctions::StateMachine")
    with pytest.raises(LookupError):
        cloud.physical_id("NoSuchLogicalId")
    machine = cloud.find(type="AWS::StepFunctions::StateMachine", path_contains="Express")
    assert cloud.physical_id(machine.logical_id) == machine.arn
    assert len(cloud.find_all(type="AWS::Lambda::Function")) == 12
