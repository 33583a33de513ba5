"""Each role of a template with every policy statement that applies to it.

A role's permissions are its inline `Policies`, its `ManagedPolicyArns` (AWS managed policies
come from the documents moto ships; customer managed ones from the template's
`AWS::IAM::ManagedPolicy`), and every `AWS::IAM::Policy`, `AWS::IAM::RolePolicy` and
`AWS::IAM::ManagedPolicy` that names it in `Roles`/`RoleName`. Policy resources are not
provisioned (they are inert in moto), so their properties are resolved here, after the stack's
other resources exist.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from local.iam_policy import statements_of

if TYPE_CHECKING:
    from local.iam import Role

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _aws_managed() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return dict(json.loads(aws_managed_policies_data))


def aws_managed_policy(arn: str) -> dict[str, Any] | None:
    """The document of an AWS managed policy (`arn:aws:iam::aws:policy/...`), from moto's copy."""
    if ":iam::aws:policy/" not in arn:
        return None
    entry = _aws_managed().get(arn.rsplit("/", 1)[-1])
    return None if entry is None else dict(entry["Document"])


def role_statements(template: Mapping[str, Any], resolver: Any, resources: Mapping[str, Any]) -> dict[str, Role]:
    """Role ARN -> Role (logical id, ARN, statements) for every provisioned role of the template."""
    from local.iam import Role

    definitions = template.get("Resources", {})

    def properties(logical_id: str) -> dict[str, Any] | None:
        if logical_id not in resources:  # a false Condition: not in the stack
            return None
        try:
            return resolver.resolve(definitions[logical_id].get("Properties", {})) or {}
        except Exception as error:
            log.warning("IAM: %s can't be resolved locally (%s): its statements are left out", logical_id, error)
            return None

    roles: dict[str, Role] = {}
    by_name: dict[str, Role] = {}
    for logical_id, definition in definitions.items():
        resource = resources.get(logical_id)
        if definition.get("Type") != "AWS::IAM::Role" or resource is None or not resource.emulated:
            continue
        arn = str(resource.attributes["Arn"])
        role = Role(logical_id, arn, [])
        roles[arn] = role
        by_name[str(resource.physical_id)] = role
        by_name[arn] = role

    managed: dict[str, tuple[str, Any]] = {}  # Ref value of a customer managed policy -> (id, document)
    for logical_id, definition in definitions.items():
        if definition.get("Type") == "AWS::IAM::ManagedPolicy" and logical_id in resources:
            props = properties(logical_id)
            if props is not None:
                managed[str(resources[logical_id].physical_id)] = (logical_id, props.get("PolicyDocument", {}))

    def attach(role_ref: Any, policy: str, document: Any) -> None:
        role = by_name.get(str(role_ref))
        if role is None:
            log.info("IAM: policy %s names role %s, which is not in the stack", policy, role_ref)
            return
        role.statements.extend(statements_of(document, policy))

    for logical_id, definition in definitions.items():
        kind = definition.get("Type")
        if kind not in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy"):
            continue
        props = properties(logical_id)
        if props is None:
            continue
        if kind == "AWS::IAM::Role":
            if logical_id not in resources or not resources[logical_id].emulated:
                continue
            arn = str(resources[logical_id].attributes["Arn"])
            for inline in props.get("Policies", []) or []:
                attach(arn, str(inline.get("PolicyName", logical_id)), inline.get("PolicyDocument", {}))
            for policy_arn in props.get("ManagedPolicyArns", []) or []:
                document = aws_managed_policy(str(policy_arn))
                if document is None and str(policy_arn) in managed:
                    document = managed[str(policy_arn)][1]
                if document is None:
                    log.warning("IAM: managed policy %s of %s is unknown locally: left out", policy_arn, logical_id)
                    continue
                attach(arn, str(policy_arn), document)
        elif kind == "AWS::IAM::RolePolicy":
            attach(props.get("RoleName"), logical_id, props.get("PolicyDocument", {}))
        else:
            for role_ref in props.get("Roles", []) or []:
                attach(role_ref, logical_id, props.get("PolicyDocument", {}))
    return roles
