"""`python -m local iam-report`: what each role really used, and what it was granted but never used.

The local cloud writes `<work_dir>/iam-usage.json` while it runs (whenever a role uses an action
on a resource for the first time, is refused, and when it stops): per role, its statements as
the template declares them, the (action, resource) pairs it was allowed with the statements
that allowed them, and the refusals. This report reads that file, so it works after a run of
`make local`, a test session (the cloud's work dir) or `make chaos`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from local.iam_policy import action_matches, resource_matches


def unused(role: dict[str, Any]) -> list[dict[str, Any]]:
    """Per Allow statement: the granted actions and resources no allowed request needed."""
    used = role.get("used", [])
    found = []
    for statement in role.get("statements", []):
        if statement.get("Effect") != "Allow":
            continue
        label = statement["label"]
        mine = [u for u in used if label in u.get("allowed_by", [])]
        if "Action" in statement:
            idle_actions = [a for a in statement["Action"] if not any(action_matches([a], u["action"]) for u in mine)]
        else:
            idle_actions = [] if mine else ["NotAction " + ",".join(statement.get("NotAction", []))]
        resources = statement.get("Resource", [])
        idle_resources = [r for r in resources if not any(resource_matches([r], u["resource"]) for u in mine)]
        if not mine:
            found.append({"statement": label, "never_used": True, "actions": idle_actions, "resources": resources})
        elif idle_actions or idle_resources:
            found.append(
                {"statement": label, "never_used": False, "actions": idle_actions, "resources": idle_resources}
            )
    return found


def report(usage: dict[str, Any]) -> dict[str, Any]:
    roles = {}
    for arn, role in sorted(usage.get("roles", {}).items(), key=lambda item: item[1].get("logical_id", "")):
        roles[role.get("logical_id", arn)] = {
            "arn": arn,
            "used": [{k: u[k] for k in ("action", "resource", "count")} for u in role.get("used", [])],
            "denied": role.get("denied", []),
            "unused": unused(role),
            "notes": role.get("notes", []),
        }
    return roles


def render(roles: dict[str, Any]) -> str:
    lines: list[str] = []
    for name, role in roles.items():
        lines.append(f"{name}  ({role['arn']})")
        if not role["used"] and not role["denied"]:
            lines.append("  used nothing")
        for entry in role["used"]:
            lines.append(f"  used    {entry['action']:<36} {entry['resource']}  ×{entry['count']}")
        for entry in role["denied"]:
            lines.append(
                f"  DENIED  {entry['action']:<36} {entry['resource']}  ×{entry['count']} "
                f"({entry['principal']}: {entry['reason']})"
            )
        for entry in role["unused"]:
            if entry["never_used"]:
                lines.append(f"  unused  {entry['statement']}: never allowed a request")
            else:
                lines.append(f"  unused  {entry['statement']}: not needed by any request:")
            if entry["actions"]:
                lines.append(f"            actions   {', '.join(entry['actions'])}")
            if entry["resources"]:
                lines.append(f"            resources {', '.join(entry['resources'])}")
        for note in role["notes"]:
            lines.append(f"  note    {note}")
        lines.append("")
    return "\n".join(lines)


def main(work_dir: str | Path, *, as_json: bool = False) -> int:
    path = Path(work_dir) / "iam-usage.json"
    if not path.is_file():
        print(f"{path} does not exist: run the local cloud (with IAM enforced) first")
        return 1
    roles = report(json.loads(path.read_text()))
    print(json.dumps(roles, indent=2) if as_json else render(roles))
    return 0
