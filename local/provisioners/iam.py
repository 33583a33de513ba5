"""AWS::IAM::Role: created in moto (its policies are read by the IAM check, local.iam)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from local.provisioned import ProvisionedResource

if TYPE_CHECKING:
    from local.provision import Provisioner


def iam_role(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    name = props.get("RoleName") or provisioner.name_for(logical_id, 64)
    path = props.get("Path", "/")
    document = props.get("AssumeRolePolicyDocument", {})
    response = provisioner.client("iam").create_role(
        RoleName=name,
        Path=path,
        AssumeRolePolicyDocument=document if isinstance(document, str) else json.dumps(document),
    )["Role"]
    return ProvisionedResource(
        logical_id, "AWS::IAM::Role", name, {"Arn": response["Arn"], "RoleId": response["RoleId"]}
    )


PROVISIONERS = {
    "AWS::IAM::Role": iam_role,
}
