"""What a template's resources refer to, and the order to create them in (every one after what it needs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from local.template import SUB_VARIABLE, Unresolvable


def references(value: Any) -> set[str]:
    """Logical ids (and parameters) a template fragment refers to, for dependency ordering."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, arg),) = node.items()
                if key == "Ref" and isinstance(arg, str):
                    found.add(arg)
                elif key == "Fn::GetAtt":
                    target = arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
                    found.add(target)
                elif key == "Fn::Sub":
                    text = arg[0] if isinstance(arg, list) else arg
                    local_vars = arg[1] if isinstance(arg, list) and len(arg) > 1 else {}
                    if isinstance(text, str):
                        for name in SUB_VARIABLE.findall(text):
                            if not name.startswith("!") and name.split(".", 1)[0] not in local_vars:
                                found.add(name.split(".", 1)[0])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(value)
    return {name for name in found if not name.startswith("AWS::")}


def dependency_order(resources: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Logical ids ordered so that every resource comes after what it refers to or depends on.

    Ties keep template order, so provisioning (and its log) reads like the template.
    """
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        if isinstance(depends_on, str):
            depends_on = [depends_on]
        needed = references(resource.get("Properties", {})) | set(depends_on)
        graph[logical_id] = {name for name in needed if name in resources and name != logical_id}
    position = {logical_id: index for index, logical_id in enumerate(resources)}
    ordered: list[str] = []
    placed: set[str] = set()
    visiting: set[str] = set()

    def visit(logical_id: str) -> None:
        if logical_id in placed:
            return
        if logical_id in visiting:
            raise Unresolvable(f"circular dependency through {logical_id}")
        visiting.add(logical_id)
        for dependency in sorted(graph[logical_id], key=position.__getitem__):
            visit(dependency)
        visiting.discard(logical_id)
        placed.add(logical_id)
        ordered.append(logical_id)

    for logical_id in resources:
        visit(logical_id)
    return ordered
