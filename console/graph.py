"""What the console draws, read from the synthesized template: the state machines and the event flow.

`build(template)` gives one JSON document (served as `graph.json` beside the page):

- `state_machines`: every `AWS::StepFunctions::StateMachine`, its states (type, the task's
  `action` and function) and its transitions (Next, Choices, Default, Catch), with the role of
  the two the page knows: `saga` (the orders saga) and `payment-workflow`;
- `announces`: which task actions announce which event, so the page can tell from an order's
  timeline which task states it passed through (the template cannot say what a task publishes);
- `event_flow`: the bus, its rules (pattern: sources, detail types, flows), the queues they
  target, and the functions the queues feed through event source mappings.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ops.resources import PAYMENT_WORKFLOW, SAGA_STATE_MACHINE

HASH_SUFFIX = re.compile(r"[0-9A-F]{8}$")
ROLES = {SAGA_STATE_MACHINE: "saga", PAYMENT_WORKFLOW: "payment-workflow"}

# Event -> the task actions (`Payload.action` of a task state) that announce it (docs/architecture.md,
# "Saga task contracts"). An order's timeline holding the event means it passed through a task state
# with one of these actions. Actions a state machine does not have are ignored, so the list names the
# payment steps both as one `charge` task and as separate authorize / capture tasks.
# tests/infra/test_console_graph.py fails when an event the saga announces maps to none of its tasks.
ANNOUNCES: dict[str, list[str]] = {
    "OrderPlaced": ["record"],
    "InventoryReserved": ["reserve"],
    "InventoryRejected": ["reserve"],
    "InventoryReleased": ["release"],
    "PaymentCompleted": ["charge", "capture"],
    "PaymentFailed": ["charge", "authorize", "fail"],
    "PaymentRefunded": ["refund", "void"],
    "OrderConfirmed": ["confirm"],
    "OrderRejected": ["reject"],
}


def text(value: Any) -> str:
    """An intrinsic as text: `Fn::Join` joined, `Ref` / `Fn::GetAtt` as the logical id they name."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        [(key, argument)] = value.items()
        if key == "Ref":
            return str(argument)
        if key == "Fn::GetAtt":
            return ".".join(argument) if isinstance(argument, list) else str(argument)
        if key == "Fn::Join":
            separator, parts = argument
            return str(separator).join(text(part) for part in parts)
        if key == "Fn::Sub":
            return text(argument[0] if isinstance(argument, list) else argument)
    return json.dumps(value)


def definition(properties: dict[str, Any]) -> dict[str, Any]:
    if "Definition" in properties:
        return dict(properties["Definition"])
    return dict(json.loads(text(properties["DefinitionString"])))


def label(logical_id: str, paths: dict[str, str]) -> str:
    """The construct path without the stack and a trailing `Resource`, else the logical id without its hash."""
    path = paths.get(logical_id)
    if path:
        parts = path.split("/")[1:]
        if parts and parts[-1] in ("Resource", "Default"):
            parts = parts[:-1]
        if parts:
            return "/".join(parts)
    return HASH_SUFFIX.sub("", logical_id)


def _condition(choice: dict[str, Any]) -> str:
    for combinator in ("And", "Or"):
        if combinator in choice:
            return f" {combinator.lower()} ".join(_condition(c) for c in choice[combinator])
    if "Not" in choice:
        return f"not ({_condition(choice['Not'])})"
    variable = choice.get("Variable", "")
    for key, value in choice.items():
        if key not in ("Variable", "Next"):
            return f"{variable} {key} {json.dumps(value)}"
    return variable


def state_machine(logical_id: str, resource: dict[str, Any], paths: dict[str, str]) -> dict[str, Any]:
    properties = resource["Properties"]
    asl = definition(properties)
    states, edges = [], []
    for name, state in asl["States"].items():
        parameters = state.get("Parameters")
        parameters = parameters if isinstance(parameters, dict) else {}
        payload = parameters.get("Payload")
        payload = payload if isinstance(payload, dict) else {}
        function = str(parameters.get("FunctionName", "")).split(".")[0] or None
        terminal = state["Type"] in ("Succeed", "Fail") or bool(state.get("End"))
        states.append(
            {
                "name": name,
                "type": state["Type"],
                "action": payload.get("action"),
                "function": function,
                "terminal": terminal,
                "comment": state.get("Comment"),
            }
        )
        if "Next" in state:
            edges.append({"from": name, "to": state["Next"], "kind": "next"})
        for choice in state.get("Choices", []):
            edges.append({"from": name, "to": choice["Next"], "kind": "choice", "label": _condition(choice)})
        if "Default" in state:
            edges.append({"from": name, "to": state["Default"], "kind": "default", "label": "otherwise"})
        for catch in state.get("Catch", []):
            label_ = ", ".join(catch.get("ErrorEquals", []))
            edges.append({"from": name, "to": catch["Next"], "kind": "catch", "label": label_})
    role = next((r for prefix, r in ROLES.items() if HASH_SUFFIX.sub("", logical_id) == prefix), None)
    return {
        "id": logical_id,
        "label": label(logical_id, paths),
        "role": role,
        "type": properties.get("StateMachineType", "STANDARD"),
        "comment": asl.get("Comment"),
        "start": asl["StartAt"],
        "states": states,
        "edges": edges,
    }


def _arn_logical_id(value: Any) -> str | None:
    """The logical id behind `{"Fn::GetAtt": [id, "Arn"]}` or `{"Ref": id}`."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
        if "Ref" in value:
            return str(value["Ref"])
    return None


def event_flow(template: dict[str, Any], paths: dict[str, str]) -> dict[str, Any]:
    resources = template.get("Resources", {})
    mappings = []
    for logical_id, resource in sorted(resources.items()):
        if resource["Type"] != "AWS::Lambda::EventSourceMapping":
            continue
        properties = resource["Properties"]
        source = _arn_logical_id(properties.get("EventSourceArn"))
        function = _arn_logical_id(properties.get("FunctionName"))
        if source and function and resources.get(source, {}).get("Type") == "AWS::SQS::Queue":
            mappings.append({"id": logical_id, "queue": source, "function": function})
    rules, queues = [], set()
    buses: set[str] = set()
    for logical_id, resource in sorted(resources.items()):
        properties = resource.get("Properties", {})
        if resource["Type"] != "AWS::Events::Rule" or "EventPattern" not in properties:
            continue  # schedules route no event
        pattern = properties["EventPattern"]
        targets = [t for t in (_arn_logical_id(t.get("Arn")) for t in properties.get("Targets", [])) if t]
        target_queues = [t for t in targets if resources.get(t, {}).get("Type") == "AWS::SQS::Queue"]
        queues.update(target_queues)
        bus = _arn_logical_id(properties.get("EventBusName"))
        if bus:
            buses.add(bus)
        rules.append(
            {
                "id": logical_id,
                "label": label(logical_id, paths),
                "bus": bus,
                "sources": [s if isinstance(s, str) else f"{s.get('prefix', '')}*" for s in pattern.get("source", [])],
                "detail_types": list(pattern.get("detail-type", [])),
                "flows": list(pattern.get("detail", {}).get("metadata", {}).get("flow", [])),
                "queues": target_queues,
            }
        )
    mapped = [m for m in mappings if m["queue"] in queues]
    functions = sorted({m["function"] for m in mapped})
    return {
        "buses": [{"id": bus, "label": label(bus, paths)} for bus in sorted(buses)],
        "rules": rules,
        "queues": [{"id": queue, "label": label(queue, paths)} for queue in sorted(queues)],
        "functions": [
            {
                "id": function,
                "label": label(function, paths),
                "handler": str(resources[function].get("Properties", {}).get("Handler", "")).removesuffix(
                    ".lambda_handler"
                ),
            }
            for function in functions
        ],
        "mappings": mapped,
    }


def construct_paths(template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> construct path, from the template's `aws:cdk:path` metadata (the CLI writes it)."""
    return {
        logical_id: str(resource["Metadata"]["aws:cdk:path"])
        for logical_id, resource in template.get("Resources", {}).items()
        if isinstance(resource.get("Metadata"), dict) and "aws:cdk:path" in resource["Metadata"]
    }


def build(template: dict[str, Any], paths: dict[str, str] | None = None, *, stack: str | None = None) -> dict[str, Any]:
    """The console's graph document for one stack's template (`paths`: logical id -> construct path)."""
    paths = {**construct_paths(template), **(paths or {})}
    machines = [
        state_machine(logical_id, resource, paths)
        for logical_id, resource in sorted(template.get("Resources", {}).items())
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
    ]
    return {
        "stack": stack,
        "state_machines": machines,
        "announces": ANNOUNCES,
        "event_flow": event_flow(template, paths),
    }
