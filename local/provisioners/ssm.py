"""AWS::SSM::Parameter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from local.provisioned import ProvisionedResource
from local.provisioners.common import text

if TYPE_CHECKING:
    from local.provision import Provisioner


def ssm_parameter(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    name = props.get("Name") or f"CFN-{provisioner.name_for(logical_id, 1000)}"
    request: dict[str, Any] = {"Name": name, "Value": text(props["Value"]), "Type": props.get("Type", "String")}
    for key in ("Description", "AllowedPattern", "Tier", "DataType"):
        if key in props:
            request[key] = props[key]
    provisioner.client("ssm").put_parameter(Overwrite=True, **request)
    return ProvisionedResource(
        logical_id, "AWS::SSM::Parameter", name, {"Type": request["Type"], "Value": request["Value"]}
    )


PROVISIONERS = {
    "AWS::SSM::Parameter": ssm_parameter,
}
