"""AWS::Lambda::Function, Alias, Version (a placeholder zip in moto; the code runs from its asset) and
EventSourceMapping (run by the runner's pollers, never registered in moto).
"""

from __future__ import annotations

import io
import logging
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local.functions import FunctionSpec
from local.provisioned import EventSourceMappingSpec, ProvisionedResource
from local.provisioners.common import text, uuid_for

if TYPE_CHECKING:
    from local.provision import Provisioner

log = logging.getLogger("local.provision")

DUMMY_ZIP_CONTENT = "# The local cloud runs this function from its CDK asset directory, not from this zip.\n"


def lambda_function(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    name = props.get("FunctionName") or provisioner.name_for(logical_id, 64)
    role = props["Role"]
    provisioner.ensure_role(role)
    runtime = props.get("Runtime", "python3.13")
    handler = props.get("Handler", "index.handler")
    environment = {key: text(value) for key, value in props.get("Environment", {}).get("Variables", {}).items()}
    timeout = int(props.get("Timeout", 3))
    memory = int(props.get("MemorySize", 128))
    request: dict[str, Any] = {
        "FunctionName": name,
        "Role": role,
        "Runtime": runtime,
        "Handler": handler,
        "Code": {"ZipFile": _dummy_zip()},
        "Timeout": timeout,
        "MemorySize": memory,
        "Environment": {"Variables": environment},
    }
    arn = provisioner.client("lambda").create_function(**request)["FunctionArn"]
    logging_config = props.get("LoggingConfig", {})
    provisioner.functions[logical_id] = FunctionSpec(
        logical_id=logical_id,
        name=name,
        arn=arn,
        handler=handler,
        runtime=runtime,
        code_dir=_code_dir(provisioner, logical_id, props),
        environment=environment,
        timeout=timeout,
        memory_size=memory,
        log_format=logging_config.get("LogFormat"),
        application_log_level=logging_config.get("ApplicationLogLevel"),
        log_group=logging_config.get("LogGroup"),
    )
    return ProvisionedResource(logical_id, "AWS::Lambda::Function", name, {"Arn": arn, "FunctionName": name})


def _code_dir(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> Path | None:
    code = props.get("Code", {})
    if "ZipFile" in code:
        directory = provisioner.work_dir / "inline" / logical_id
        directory.mkdir(parents=True, exist_ok=True)
        module = props.get("Handler", "index.handler").rsplit(".", 1)[0].replace(".", "/")
        (directory / f"{module}.py").write_text(str(code["ZipFile"]))
        return directory
    asset = provisioner.stack.asset_for(logical_id, code)
    if asset is None:
        log.warning("function %s has no local code asset (%s); invocations will fail", logical_id, code)
        return None
    if asset.path.is_dir():
        return asset.path
    if asset.path.suffix == ".zip" and asset.path.is_file():
        directory = provisioner.work_dir / "assets" / asset.asset_hash
        if not (directory / ".extracted").exists():
            directory.mkdir(parents=True, exist_ok=True)
            with zipfile.ZipFile(asset.path) as archive:
                archive.extractall(directory)
            (directory / ".extracted").touch()
        return directory
    log.warning("function %s: asset %s is not a directory or zip", logical_id, asset.path)
    return None


def lambda_alias(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    function = str(props["FunctionName"]).split(":function:")[-1].split(":")[0]
    arn = f"{provisioner.arn('lambda', 'function:' + function)}:{props['Name']}"
    try:
        arn = provisioner.client("lambda").create_alias(
            FunctionName=function, Name=props["Name"], FunctionVersion=str(props.get("FunctionVersion", "$LATEST"))
        )["AliasArn"]
    except Exception as error:  # moto may not know the version; the alias ARN still routes by name
        log.debug("alias %s kept local only: %s", logical_id, error)
    return ProvisionedResource(logical_id, "AWS::Lambda::Alias", arn, {"AliasArn": arn})


def lambda_version(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    function = str(props["FunctionName"]).split(":function:")[-1].split(":")[0]
    response = provisioner.client("lambda").publish_version(FunctionName=function)
    return ProvisionedResource(
        logical_id, "AWS::Lambda::Version", response["FunctionArn"], {"Version": response["Version"]}
    )


def event_source_mapping(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    # Deliberately not registered in moto: moto would fire it synchronously inside SendMessage
    # / PutItem. The runner polls the source itself (local.mappings).
    function = str(props["FunctionName"])
    if function.startswith("arn:"):
        function = function.split(":function:", 1)[1].split(":", maxsplit=1)[0]
    mapping_uuid = uuid_for(provisioner.stack.stack_name, logical_id)
    provisioner.mappings.append(
        EventSourceMappingSpec(logical_id, mapping_uuid, function, str(props.get("EventSourceArn", "")), props)
    )
    return ProvisionedResource(logical_id, "AWS::Lambda::EventSourceMapping", mapping_uuid, {"Id": mapping_uuid})


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("LOCAL_CLOUD.py", DUMMY_ZIP_CONTENT)
    return buffer.getvalue()


PROVISIONERS = {
    "AWS::Lambda::Function": lambda_function,
    "AWS::Lambda::Alias": lambda_alias,
    "AWS::Lambda::Version": lambda_version,
    "AWS::Lambda::EventSourceMapping": event_source_mapping,
}
