"""What the template says of each path: its resources, states, rules and queues, and which service knows which."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from ops.compare.constants import ROOT

# What each path needs to decide an order, by construct path in the template and by source file; the
# rest (the orders API and tables, the bus, the timeline, shipping, notifications, the inventory and
# payments logic) serves both. payments-tasks serves both: the saga's ChargePayment and the workflow's.
PATH_PARTS: dict[str, dict[str, tuple[str, ...]]] = {
    "orchestrated": {
        "constructs": ("OrderSaga/", "Orders/Tasks/", "Inventory/Tasks/", "Payments/Tasks/"),
        "code": (
            "cdk/saga.py",
            "functions/orders/handlers/saga_tasks.py",
            "functions/inventory/handlers/saga_tasks.py",
            "functions/payments/handlers/tasks.py",
        ),
    },
    "choreographed": {
        "constructs": (
            "Orders/Relay",
            "Orders/Projector/",
            "Orders/ProjectionEvents/",
            "Inventory/Consumer/",
            "Inventory/Events/",
            "Payments/Consumer/",
            "Payments/Events/",
            "Payments/Workflow",
            "Payments/Tasks/",
        ),
        "code": (
            "functions/orders/handlers/outbox_relay.py",
            "functions/orders/handlers/projector.py",
            "functions/inventory/handlers/consumer.py",
            "functions/payments/handlers/consumer.py",
            "functions/payments/handlers/tasks.py",
            "functions/payments/logic/workflow.py",
        ),
    },
}


def complexity(template: dict[str, Any]) -> dict[str, Any]:
    """Per path: the template's resources, functions, rules, queues (dead-letter ones included), state
    machines and states under its constructs, and the non-blank, non-comment lines of its files."""
    resources = template.get("Resources", {})
    rows = []
    for path, parts in PATH_PARTS.items():
        mine = [
            r
            for r in resources.values()
            if any(_cdk_name(r).startswith(f"Orderflow/{prefix}") for prefix in parts["constructs"])
        ]

        def count(kind: str, among: list[dict[str, Any]] = mine) -> int:
            return sum(1 for r in among if r.get("Type") == kind)

        states = sum(
            _count_states(_flatten(r.get("Properties", {}).get("DefinitionString")))
            for r in mine
            if r.get("Type") == "AWS::StepFunctions::StateMachine"
        )
        rows.append(
            {
                "path": path,
                "resources": len(mine),
                "functions": count("AWS::Lambda::Function"),
                "rules": count("AWS::Events::Rule"),
                "queues": count("AWS::SQS::Queue"),
                "machines": count("AWS::StepFunctions::StateMachine"),
                "states": states,
                "lines": sum(_code_lines(ROOT / name) for name in parts["code"]),
                "code": parts["code"],
            }
        )
    return {
        "rows": rows,
        "resources": len(resources),
        "function_lines": sum(_code_lines(f) for f in sorted((ROOT / "functions").rglob("*.py"))),
        "cdk_lines": sum(_code_lines(f) for f in sorted((ROOT / "cdk").rglob("*.py"))),
    }


def _cdk_name(resource: dict[str, Any]) -> str:
    return str(resource.get("Metadata", {}).get("aws:cdk:path", ""))


def _flatten(value: Any) -> str:
    """A DefinitionString (Fn::Join of strings and references) as text, references left out."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(_flatten(part) for part in value["Fn::Join"][1])
    if isinstance(value, list):
        return "".join(_flatten(part) for part in value)
    return ""


def _count_states(definition: str) -> int:
    """States in an ASL definition (nested ones included): every object with a "Type" among ASL's."""
    kinds = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
    return sum(definition.count(f'"Type":"{kind}"') for kind in kinds)


def _code_lines(path: Path) -> int:
    """Lines that are neither blank nor comments."""
    if not path.is_file():
        return 0
    return sum(1 for line in path.read_text().splitlines() if line.strip() and not line.strip().startswith("#"))


def _service(resource: dict[str, Any]) -> str:
    parts = str(resource.get("Metadata", {}).get("aws:cdk:path", "")).split("/")
    return parts[1] if len(parts) > 2 else ""


def _refs(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                found.add(str(target))
            else:
                found |= _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= _refs(inner)
    return found


def coupling(template: dict[str, Any]) -> dict[str, dict[str, set[str]]]:
    """Per service: what it calls (IAM grants, state machine tasks) and whose events it must know (rules)."""
    resources = template.get("Resources", {})
    owner = {logical_id: _service(resource) for logical_id, resource in resources.items()}
    result: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"calls": set(), "events": set()})
    for resource in resources.values():
        service = _service(resource)
        props = resource.get("Properties", {})
        kind = resource.get("Type")
        if kind == "AWS::IAM::Policy":
            roles = {owner.get(ref, "") for ref in _refs(props.get("Roles"))}
            for statement in props.get("PolicyDocument", {}).get("Statement", []):
                actions = statement.get("Action", [])
                actions = [actions] if isinstance(actions, str) else actions
                prefixes = sorted({str(a).split(":")[0] for a in actions})
                for target in _refs(statement.get("Resource")):
                    callee = owner.get(target, "")
                    for role_service in roles:
                        if callee and role_service and callee != role_service and not _is_ops(prefixes):
                            result[role_service]["calls"].add(f"{callee} ({', '.join(prefixes)})")
        elif kind == "AWS::Events::Rule" and props.get("EventPattern"):
            sources = props["EventPattern"].get("source", [])
            types = props["EventPattern"].get("detail-type", [])
            names = [
                f"every service ({source['prefix']}*)"
                if isinstance(source, dict)
                else str(source).split(".")[-1].title()
                for source in sources
            ]
            result[service]["events"].add(f"{'/'.join(names)}: {', '.join(types)}" if types else "/".join(names))
        elif kind == "AWS::StepFunctions::StateMachine":
            for target in _refs(props.get("DefinitionString")):
                callee = owner.get(target, "")
                if callee and callee != service and resources.get(target, {}).get("Type") == "AWS::Lambda::Function":
                    result[service]["calls"].add(f"{callee} (task)")
    return dict(result)


def _is_ops(prefixes: list[str]) -> bool:
    """Grants that are plumbing, not coupling: logs, X-Ray, KMS, metrics."""
    return all(prefix in ("logs", "xray", "kms", "cloudwatch") for prefix in prefixes)
