"""Stages side by side, and what a team watches: alarms with actions, a dashboard per stage."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App

from cdk.app import build, stack_name

# Properties that name a resource physically; two stages must never share a value of one.
PHYSICAL_NAMES = ("Name", "TableName", "QueueName", "TopicName", "FunctionName", "DashboardName", "StateMachineName")


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stages() -> dict[str, dict[str, Any]]:
    """dev and prod as `cdk synth -c stage=...` builds them (cdk.json's stage settings included).

    Each is a cloud assembly under `.local/`, kept between runs like the test stack's
    (tests/conftest.py) and synthesized again only when what `cdk watch` would react to, the
    context, the CDK version or this fixture has changed (local.synth_cache)."""
    from local import synth_cache

    config = json.loads((ROOT / "cdk.json").read_text())
    # cdk.json's watch leaves tests/ out: this module's own text is one more input
    this_module = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    templates = {}
    for stage in ("dev", "prod"):
        context = {**config["context"], "stage": stage, "orderflow:alarmEmail": f"ops-{stage}@example.com"}
        outdir = ROOT / ".local" / f"stage-{stage}.out"
        digest = synth_cache.fingerprint(ROOT, config, [f"{__name__}::stages", this_module], context)

        def synthesize(outdir: Path = outdir, context: dict[str, Any] = context) -> None:
            shutil.rmtree(outdir, ignore_errors=True)
            app = App(outdir=str(outdir), context=context)
            build(app, stack_name(app))
            app.synth()

        synth_cache.synthesize_once(outdir, digest, synthesize)
        [template] = [
            artifact["properties"]["templateFile"]
            for artifact in json.loads((outdir / "manifest.json").read_text())["artifacts"].values()
            if artifact["type"] == "aws:cloudformation:stack"
        ]
        templates[stage] = json.loads((outdir / template).read_text())
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


# --- what a deployment keeps and the test stack shortens ----------------------------------------


def _task_timeouts(template: dict) -> dict[str, tuple[int, int | None]]:
    """Every Lambda task of both workflows: (TimeoutSeconds, the charge's budget_ms or None)."""
    found = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            parts = resource["Properties"]["DefinitionString"]["Fn::Join"][1]
            definition = json.loads("".join(p if isinstance(p, str) else "TOKEN" for p in parts))
            for name, state in definition["States"].items():
                if "TimeoutSeconds" in state and "Payload" in state.get("Parameters", {}):
                    found[name] = (state["TimeoutSeconds"], state["Parameters"]["Payload"].get("budget_ms"))
    return found


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_a_deployment_keeps_the_defaults_the_test_stack_changes(synthesized, stages, stage):
    """Each stage as `cdk deploy -c stage=...` synthesizes it (cdk.json's context, no test
    context) against the test stack: task timeouts, batching windows, fault injection."""
    deployed = stages[stage]
    _saga_task_timeout_is_8_s_deployed_and_the_test_stacks_shorter_one(synthesized, deployed)
    _batching_windows_are_2_s_deployed_and_the_test_stacks_shorter_one(synthesized, deployed)
    _fault_injection_exists_only_where_the_context_enables_it(synthesized, deployed)


def _saga_task_timeout_is_8_s_deployed_and_the_test_stacks_shorter_one(synthesized, deployed):
    from tests.support.stack_context import SAGA_TASK_TIMEOUT_SECONDS

    ours, theirs = _task_timeouts(synthesized.template_json), _task_timeouts(deployed)
    assert "ChargePayment" in ours and ours.keys() == theirs.keys()
    assert {timeout for timeout, _ in theirs.values()} == {8}
    assert {timeout for timeout, _ in ours.values()} == {SAGA_TASK_TIMEOUT_SECONDS}
    # the charge begins no capture in the last second before its task times out
    assert theirs["ChargePayment"][1] == 7000
    assert ours["ChargePayment"][1] == SAGA_TASK_TIMEOUT_SECONDS * 1000 - 1000


def _windows(template: dict) -> dict[str, int]:
    return {
        mapping["Properties"]["FunctionName"]["Ref"].split("Function")[0]: mapping["Properties"].get(
            "MaximumBatchingWindowInSeconds", 0
        )
        for mapping in template["Resources"].values()
        if mapping["Type"] == "AWS::Lambda::EventSourceMapping" and "StartingPosition" not in mapping["Properties"]
    }


def _batching_windows_are_2_s_deployed_and_the_test_stacks_shorter_one(synthesized, deployed):
    from tests.support.stack_context import BATCHING_WINDOW_SECONDS

    ours, theirs = _windows(synthesized.template_json), _windows(deployed)
    assert ours.keys() == theirs.keys()
    batching = {name for name, window in theirs.items() if window}
    assert batching == {"OrdersTimeline", "ShippingConsumer", "NotificationsConsumer"}
    assert {theirs[name] for name in batching} == {2}
    assert {ours[name] for name in batching} == {BATCHING_WINDOW_SECONDS}
    assert all(ours[name] == 0 for name in ours.keys() - batching)  # the critical path never batches


def _fault_injection_exists_only_where_the_context_enables_it(synthesized, deployed):
    # the test stack enables it: every function reads the document, and may
    assert synthesized.resources("AWS::SSM::Parameter")
    for fn in synthesized.resources("AWS::Lambda::Function").values():
        assert "ORDERFLOW_FAULTS_PARAMETER" in fn["Properties"]["Environment"]["Variables"]
        # and re-reads it after the test stack's cache time (orderflow:faultsCacheSeconds), not 2 s
        assert fn["Properties"]["Environment"]["Variables"]["ORDERFLOW_FAULTS_CACHE_SECONDS"] == "0.5"
    # a deployment's default: no document, no variable, no grant, so no SSM read per call
    assert "AWS::SSM::Parameter" not in {r["Type"] for r in deployed["Resources"].values()}
    assert "ORDERFLOW_FAULTS_PARAMETER" not in json.dumps(deployed)
    assert "ORDERFLOW_FAULTS_CACHE_SECONDS" not in json.dumps(deployed)
    assert "ssm:GetParameter" not in json.dumps(deployed)
