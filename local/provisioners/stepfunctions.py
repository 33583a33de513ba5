"""AWS::StepFunctions::StateMachine (definition resolved, substitutions applied) and Activity."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from local.provisioned import ProvisionedResource
from local.provisioners.common import text
from local.template import Unresolvable

if TYPE_CHECKING:
    from local.provision import Provisioner


def state_machine(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    name = props.get("StateMachineName") or provisioner.name_for(logical_id, 80)
    if "DefinitionString" in props:
        definition = str(props["DefinitionString"])
    elif "Definition" in props:
        definition = json.dumps(props["Definition"])
    else:
        raise Unresolvable(f"state machine {logical_id}: DefinitionS3Location is not supported locally")
    for key, value in props.get("DefinitionSubstitutions", {}).items():
        definition = definition.replace("${" + key + "}", text(value))
    role = props.get("RoleArn") or provisioner.arn("iam", "role/local-state-machine", region=False)
    response = provisioner.client("stepfunctions").create_state_machine(
        name=name, definition=definition, roleArn=role, type=props.get("StateMachineType", "STANDARD")
    )
    arn = response["stateMachineArn"]
    return ProvisionedResource(
        logical_id,
        "AWS::StepFunctions::StateMachine",
        arn,
        {"Arn": arn, "Name": name, "StateMachineRevisionId": "INITIAL"},
    )


def activity(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    arn = provisioner.client("stepfunctions").create_activity(name=props["Name"])["activityArn"]
    return ProvisionedResource(logical_id, "AWS::StepFunctions::Activity", arn, {"Name": props["Name"]})


PROVISIONERS = {
    "AWS::StepFunctions::StateMachine": state_machine,
    "AWS::StepFunctions::Activity": activity,
}
