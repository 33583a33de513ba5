"""AWS::Events::EventBus, Rule (pattern, state, targets) and Archive."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from local.provisioned import ProvisionedResource

if TYPE_CHECKING:
    from local.provision import Provisioner

log = logging.getLogger("local.provision")


def event_bus(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    name = props["Name"]
    arn = provisioner.client("events").create_event_bus(Name=name)["EventBusArn"]
    return ProvisionedResource(logical_id, "AWS::Events::EventBus", name, {"Arn": arn, "Name": name})


def event_rule(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    name = props.get("Name") or provisioner.name_for(logical_id, 64)
    bus = props.get("EventBusName", "default")
    bus_name = bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus
    request: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
    if "EventPattern" in props:
        pattern = props["EventPattern"]
        request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    if "ScheduleExpression" in props:
        request["ScheduleExpression"] = props["ScheduleExpression"]
        log.info("rule %s has a schedule (%s); the local scheduler fires it", logical_id, props["ScheduleExpression"])
    if "Description" in props:
        request["Description"] = props["Description"]
    events = provisioner.client("events")
    arn = events.put_rule(**request)["RuleArn"]
    targets = [_target(target) for target in props.get("Targets", [])]
    for start in range(0, len(targets), 10):
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets[start : start + 10])
    ref = name if bus_name == "default" else f"{bus_name}|{name}"
    return ProvisionedResource(logical_id, "AWS::Events::Rule", ref, {"Arn": arn, "Name": name})


def event_archive(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    name = props.get("ArchiveName") or provisioner.name_for(logical_id, 48)
    request: dict[str, Any] = {"ArchiveName": name, "EventSourceArn": props["SourceArn"]}
    if props.get("Description"):
        request["Description"] = props["Description"]
    if "EventPattern" in props:
        pattern = props["EventPattern"]
        request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
    if "RetentionDays" in props:
        request["RetentionDays"] = int(props["RetentionDays"])
    arn = provisioner.client("events").create_archive(**request)["ArchiveArn"]
    return ProvisionedResource(logical_id, "AWS::Events::Archive", name, {"Arn": arn, "ArchiveName": name})


def _target(target: dict[str, Any]) -> dict[str, Any]:
    allowed = (
        "Id",
        "Arn",
        "RoleArn",
        "Input",
        "InputPath",
        "InputTransformer",
        "SqsParameters",
        "RetryPolicy",
        "DeadLetterConfig",
        "HttpParameters",
    )
    result = {key: target[key] for key in allowed if key in target}
    if "Input" in result and not isinstance(result["Input"], str):
        result["Input"] = json.dumps(result["Input"])
    return result


PROVISIONERS = {
    "AWS::Events::EventBus": event_bus,
    "AWS::Events::Rule": event_rule,
    "AWS::Events::Archive": event_archive,
}
