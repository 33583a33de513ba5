"""AWS::Logs::LogGroup."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from local.provisioned import ProvisionedResource

if TYPE_CHECKING:
    from local.provision import Provisioner


def log_group(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    name = props.get("LogGroupName") or provisioner.name_for(logical_id, 512)
    logs = provisioner.client("logs")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=name)
    if props.get("RetentionInDays"):
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
    return ProvisionedResource(
        logical_id, "AWS::Logs::LogGroup", name, {"Arn": provisioner.arn("logs", f"log-group:{name}:*")}
    )


PROVISIONERS = {
    "AWS::Logs::LogGroup": log_group,
}
