"""Stages side by side, and what a team watches: alarms with actions, a dashboard per stage."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from cdk.app import build, stack_name

# Properties that name a resource physically; two stages must never share a value of one.
PHYSICAL_NAMES = ("Name", "TableName", "QueueName", "TopicName", "FunctionName", "DashboardName", "StateMachineName")


@pytest.fixture(scope="module")
def stages() -> dict[str, dict[str, Any]]:
    """dev and prod as `cdk synth -c stage=...` builds them (cdk.json's stage settings included)."""
    with open("cdk.json") as file:
        cdk_json = json.load(file)["context"]
    templates = {}
    for stage in ("dev", "prod"):
        app = App(context={**cdk_json, "stage": stage, "orderflow:alarmEmail": f"ops-{stage}@example.com"})
        _, stack = build(app, stack_name(app))
        templates[stage] = Template.from_stack(stack).to_json()
    return templates


def _physical_names(template: dict[str, Any]) -> set[str]:
    names = set()
    for resource in template["Resources"].values():
        for key in PHYSICAL_NAMES:
            value = (resource.get("Properties") or {}).get(key)
            if value is not None and not (isinstance(value, dict) and ({"Ref", "Fn::GetAtt"} & set(value))):
                names.add(json.dumps(value, sort_keys=True))  # a name, not a reference to another resource
    return names


def test_stages_synthesize_side_by_side_with_no_shared_physical_name(stages):
    assert stack_name(App(context={"stage": "dev"})) == "Orderflow-dev"
    assert stack_name(App()) == "Orderflow"
    shared = _physical_names(stages["dev"]) & _physical_names(stages["prod"])
    assert not shared, shared


def test_stage_settings_come_from_the_context(stages):
    def retention(template: dict[str, Any]) -> set[int]:
        return {
            r["Properties"]["RetentionInDays"]
            for r in template["Resources"].values()
            if r["Type"] == "AWS::Logs::LogGroup" and "RetentionInDays" in r["Properties"]
        }

    def table_policies(template: dict[str, Any]) -> set[str]:
        return {r["DeletionPolicy"] for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"}

    assert retention(stages["dev"]) == {7} and retention(stages["prod"]) == {90}
    assert table_policies(stages["dev"]) == {"Delete"} and table_policies(stages["prod"]) == {"Retain"}


def test_every_alarm_notifies_the_alarm_topic_with_an_optional_email(synthesized, stages):
    resources = synthesized.template_json["Resources"]
    [topic] = [lid for lid, r in resources.items() if r["Type"] == "AWS::SNS::Topic" and "AlarmTopic" in lid]
    alarms = {lid: r for lid, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert len(alarms) >= 10 + 3 + 2 * 13  # DLQs, saga/workflow, errors and throttles per function
    for logical_id, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic}], logical_id
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic}], logical_id
    # no subscription by default; with `orderflow:alarmEmail`, an e-mail one
    assert not [r for r in resources.values() if r["Type"] == "AWS::SNS::Subscription" and "alarm" in json.dumps(r)]
    subscriptions = [r for r in stages["dev"]["Resources"].values() if r["Type"] == "AWS::SNS::Subscription"]
    assert {"Protocol": "email", "Endpoint": "ops-dev@example.com"}.items() <= {
        k: v for s in subscriptions for k, v in s["Properties"].items()
    }.items()


def test_the_dashboard_shows_what_the_team_watches(synthesized):
    [dashboard] = [
        r for r in synthesized.template_json["Resources"].values() if r["Type"] == "AWS::CloudWatch::Dashboard"
    ]
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in (
        "Orders per path and outcome",
        "Time to decision (ms)",
        "Saga and payment workflow failures",
        "Messages in dead-letter queues",
        "Age of the oldest message (s)",
        "Lambda errors and throttles",
    ):
        assert title in body, title
    for needle in ("TimeToDecision", "p99", "OrderConfirmed", "ApproximateAgeOfOldestMessage", "Throttles"):
        assert needle in body, needle
