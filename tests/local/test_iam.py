"""Identity-based IAM on the local cloud: the policy evaluator, request resources, enforcement."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from local import iam_report
from local.iam_policy import Request, Statement, evaluate, statements_of, wildcard_match
from local.iam_resources import checks

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"


def policy(*statements: dict[str, Any]) -> list[Statement]:
    return statements_of({"Version": "2012-10-17", "Statement": list(statements)}, "test")


def allowed(statements: list[Statement], action: str, resource: str | None = TABLE, **context: list[str]) -> bool:
    return evaluate(statements, Request(action, resource, context, tuple(context))).allowed


# -- the evaluator ---------------------------------------------------------------------------


def test_wildcards_in_actions_and_resources() -> None:
    grants = policy({"Effect": "Allow", "Action": "dynamodb:*Item", "Resource": "arn:aws:dynamodb:*:*:table/ord?rs"})
    assert allowed(grants, "dynamodb:PutItem")
    assert allowed(grants, "DynamoDB:putitem")  # actions match case-insensitively
    assert not allowed(grants, "dynamodb:Query")
    assert not allowed(grants, "dynamodb:PutItem", TABLE.replace("orders", "Orders"))  # resources don't
    assert not allowed(grants, "dynamodb:PutItem", TABLE + "/index/byStatus")
    assert wildcard_match("arn:aws:sqs:*:*:q.fifo", "arn:aws:sqs:us-east-1:1:q.fifo")
    assert not wildcard_match("arn:aws:sqs:*:*:q.fifo", "arn:aws:sqs:us-east-1:1:qxfifo")  # '.' is literal


def test_nothing_is_allowed_without_a_statement_that_allows_it() -> None:
    assert not allowed([], "dynamodb:GetItem")
    assert not allowed(policy({"Effect": "Allow", "Action": "dynamodb:GetItem"}), "dynamodb:GetItem")  # no Resource


def test_not_action() -> None:
    grants = policy({"Effect": "Allow", "NotAction": ["dynamodb:Delete*", "iam:*"], "Resource": "*"})
    assert allowed(grants, "dynamodb:GetItem")
    assert not allowed(grants, "dynamodb:DeleteItem")
    assert not allowed(grants, "iam:PassRole")


def test_not_resource() -> None:
    grants = policy({"Effect": "Allow", "Action": "dynamodb:*", "NotResource": "arn:aws:dynamodb:*:*:table/secrets*"})
    assert allowed(grants, "dynamodb:GetItem")
    assert not allowed(grants, "dynamodb:GetItem", TABLE.replace("orders", "secrets"))


def test_an_explicit_deny_wins_over_any_allow() -> None:
    grants = policy(
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": TABLE},
    )
    assert allowed(grants, "dynamodb:PutItem")
    decision = evaluate(grants, Request("dynamodb:DeleteItem", TABLE))
    assert not decision.allowed
    assert decision.explicit_deny
    assert [s.label for s in decision.denied_by] == ["test#NoDeletes"]
    assert allowed(grants, "dynamodb:DeleteItem", TABLE.replace("orders", "other"))


def test_conditions_over_request_keys_are_evaluated() -> None:
    grants = policy(
        {
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {
                "Null": {"kms:EncryptionContext:order_id": "false"},
                "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["order_id"]},
            },
        }
    )

    def decrypt(context: dict[str, str]) -> bool:
        request = checks("kms", "Decrypt", {"KeyId": "k", "EncryptionContext": context}, region="r", account="1")[0]
        return evaluate(grants, request).allowed

    assert decrypt({"order_id": "o-1"})
    assert not decrypt({})  # Null false: the key must be present
    assert not decrypt({"order_id": "o-1", "tenant": "t"})  # ForAllValues: only order_id


def test_conditions_that_cannot_be_evaluated_are_reported_not_guessed() -> None:
    grants = policy(
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        },
        {
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalTag/team": "x"}},
        },
    )
    decision = evaluate(grants, Request("s3:GetObject", "arn:aws:s3:::b/k"))
    assert decision.allowed  # the Allow applies as if its condition held; the Deny does not apply
    assert sorted(description for _, description in decision.unevaluated) == [
        "IpAddress aws:SourceIp",
        "StringEquals aws:PrincipalTag/team",
    ]


def test_an_unknown_resource_is_checked_by_the_action_alone() -> None:
    grants = policy(
        {"Effect": "Allow", "Action": "dynamodb:GetRecords", "Resource": "arn:aws:dynamodb:*:*:table/x/stream/*"}
    )
    decision = evaluate(grants, Request("dynamodb:GetRecords", None))
    assert decision.allowed and decision.resource_unknown
    assert not evaluate(grants, Request("dynamodb:GetItem", None)).allowed


# -- what a request asks for -----------------------------------------------------------------


def ask(service: str, operation: str, params: dict[str, Any], path: str = "") -> list[tuple[str, str | None]]:
    found = checks(service, operation, params, region="us-east-1", account="123456789012", path=path)
    return [(request.action, request.resource) for request in found]


def test_resources_of_the_calls_functions_make() -> None:
    arn = "arn:aws:{}:us-east-1:123456789012:{}".format
    assert ask("dynamodb", "Query", {"TableName": "t", "IndexName": "i"}) == [
        ("dynamodb:Query", arn("dynamodb", "table/t/index/i"))
    ]
    assert ask("dynamodb", "BatchGetItem", {"RequestItems": {"a": {}, "b": {}}}) == [
        ("dynamodb:BatchGetItem", arn("dynamodb", "table/a")),
        ("dynamodb:BatchGetItem", arn("dynamodb", "table/b")),
    ]
    transact = {"TransactItems": [{"Put": {"TableName": "a"}}, {"ConditionCheck": {"TableName": "b"}}]}
    assert ask("dynamodb", "TransactWriteItems", transact) == [
        ("dynamodb:PutItem", arn("dynamodb", "table/a")),
        ("dynamodb:ConditionCheckItem", arn("dynamodb", "table/b")),
    ]
    assert ask("dynamodb", "TransactGetItems", {"TransactItems": [{"Get": {"TableName": "a"}}]}) == [
        ("dynamodb:GetItem", arn("dynamodb", "table/a"))
    ]
    assert ask("sqs", "SendMessageBatch", {"QueueUrl": "http://127.0.0.1:5000/123456789012/q"}) == [
        ("sqs:SendMessage", arn("sqs", "q"))
    ]
    assert ask("events", "PutEvents", {"Entries": [{"EventBusName": "bus"}, {}]}) == [
        ("events:PutEvents", arn("events", "event-bus/bus")),
        ("events:PutEvents", arn("events", "event-bus/default")),
    ]
    machine = arn("states", "stateMachine:m")
    assert ask("states", "StartSyncExecution", {"stateMachineArn": machine}) == [("states:StartSyncExecution", machine)]
    assert ask("ssm", "GetParameter", {"Name": "/app/flags"}) == [
        ("ssm:GetParameter", arn("ssm", "parameter/app/flags"))
    ]
    assert ask("lambda", "Invoke", {"Qualifier": "live"}, "/2015-03-31/functions/fn/invocations") == [
        ("lambda:InvokeFunction", arn("lambda", "function:fn:live"))
    ]
    assert ask("monitoring", "PutMetricData", {}) == [("cloudwatch:PutMetricData", "*")]
    assert ask("xray", "PutTraceSegments", {}) == [("xray:PutTraceSegments", "*")]


# -- on the local cloud ----------------------------------------------------------------------


def test_a_function_missing_a_grant_is_refused_as_aws_would(
    cloud: Any, unique: str, caplog: pytest.LogCaptureFixture
) -> None:
    table = cloud.find(type="AWS::DynamoDB::Table", path_contains="RecordsTable").arn
    with caplog.at_level(logging.WARNING, logger="local.iam"):
        refused = cloud.invoke("UngrantedWriter", {"pk": f"iam-{unique}"})
    assert refused.errored
    message = refused.json()["errorMessage"]
    role = cloud.find(type="AWS::IAM::Role", path_contains="UngrantedWriter/ServiceRole").name
    function = cloud.function_name("UngrantedWriter")
    assert message == (
        "An error occurred (AccessDeniedException) when calling the PutItem operation: "
        f"User: arn:aws:sts::123456789012:assumed-role/{role}/{function} is not authorized to perform: "
        f"dynamodb:PutItem on resource: {table} because no identity-based policy allows the dynamodb:PutItem action"
    )
    assert any("dynamodb:PutItem" in r.message and table in r.message for r in caplog.records)  # the runner says so

    # The same code with `records.grant_write_data(fn)` in the stack: allowed.
    granted = cloud.invoke("GrantedWriter", {"pk": f"iam-{unique}"})
    assert not granted.errored, granted.payload
    assert cloud.client("dynamodb").get_item(TableName=table.rsplit("/", 1)[1], Key={"pk": {"S": f"iam-{unique}"}})[
        "Item"
    ]


def test_workflows_and_rule_targets_act_as_their_roles(cloud: Any, unique: str) -> None:
    started = cloud.invoke("Starter", {"body": json.dumps({"key": f"iam-{unique}"})})
    assert json.loads(started.json()["body"])["status"] == "SUCCEEDED"
    cloud.client("events").put_events(
        Entries=[
            {
                "Source": "test.items",
                "DetailType": "ItemArchived",
                "Detail": json.dumps({"greeting": "hi"}),
                "EventBusName": "local-runner-bus",
            }
        ]
    )
    cloud.wait_idle(timeout=60)
    usage = {role["logical_id"]: role for role in cloud.iam.usage()["roles"].values()}

    def used(role_path: str) -> set[str]:
        role = cloud.find(type="AWS::IAM::Role", path_contains=role_path).logical_id
        return {entry["action"] for entry in usage[role]["used"]}

    assert "states:StartSyncExecution" in used("Starter/ServiceRole")
    assert "lambda:InvokeFunction" in used("ExpressFlow/Role")  # the ASL interpreter's task, as the machine's role
    assert "states:StartExecution" in used("StandardFlow/EventsRole")  # the rule's target RoleArn


def test_the_report_shows_use_refusals_and_unused_grants(cloud: Any, unique: str, tmp_path: Any) -> None:
    cloud.invoke("UngrantedWriter", {"pk": f"iam-{unique}"})
    cloud.invoke("GrantedWriter", {"pk": f"iam-{unique}"})
    roles = iam_report.report(cloud.iam.usage())
    ungranted = roles[cloud.find(type="AWS::IAM::Role", path_contains="UngrantedWriter/ServiceRole").logical_id]
    assert {d["action"] for d in ungranted["denied"]} == {"dynamodb:PutItem"}
    granted = roles[cloud.find(type="AWS::IAM::Role", path_contains="GrantedWriter/ServiceRole").logical_id]
    assert [u["action"] for u in granted["used"]] == ["dynamodb:PutItem"]
    idle = {action for entry in granted["unused"] for action in entry["actions"]}
    assert "dynamodb:DeleteItem" in idle and "dynamodb:PutItem" not in idle  # grant_write_data grants more
    text = iam_report.render(roles)
    assert "DENIED  dynamodb:PutItem" in text

    cloud.iam.write_usage()
    assert iam_report.main(cloud.work_dir) == 0
    assert json.loads((cloud.work_dir / "iam-usage.json").read_text())["roles"]


def test_calls_without_a_function_identity_are_not_checked(cloud: Any) -> None:
    # The runner, the tests and the ops toolkit sign with the local cloud's own credentials.
    assert cloud.client("ssm").get_parameter(Name="/local-runner/greeting")["Parameter"]["Value"] == "hello"
