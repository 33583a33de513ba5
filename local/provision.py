"""Creates a stack's resources in moto, one provisioner per CloudFormation resource type.

Resources are created in dependency order, each from its own resolved template properties,
and register their `Ref` value and `Fn::GetAtt` attributes for the resources after them.
Types with no local counterpart (IAM policies, alarms, permissions, custom resources...) are
skipped with a debug note; what they would return to `Ref`/`GetAtt` becomes a placeholder so
that nothing that merely mentions them breaks.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.assembly import StackArtifact
from local.functions import FunctionSpec
from local.template import TemplateResolver, Unresolvable, dependency_order, physical_name

log = logging.getLogger(__name__)

# Types that need nothing locally: access control, telemetry, deployment plumbing.
INERT_TYPES = {
    "AWS::CDK::Metadata",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::InstanceProfile",
    "AWS::Lambda::Permission",
    "AWS::Lambda::LayerVersion",
    "AWS::Lambda::LayerVersionPermission",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::Events::EventBusPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::CompositeAlarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::Logs::MetricFilter",
    "AWS::Logs::SubscriptionFilter",
    "AWS::Logs::ResourcePolicy",
    "AWS::KMS::Alias",
    "AWS::ApiGateway::Account",
    "AWS::ApiGateway::UsagePlan",
    "AWS::ApiGateway::UsagePlanKey",
    "AWS::ApiGateway::ApiKey",
    "AWS::ApiGateway::BasePathMapping",
    "AWS::ApiGateway::DomainName",
    "AWS::WAFv2::WebACL",
    "AWS::WAFv2::WebACLAssociation",
    "AWS::XRay::Group",
    "AWS::XRay::SamplingRule",
    "AWS::S3::BucketPolicy",
    "AWS::Lambda::EventInvokeConfig",
}

DUMMY_ZIP_CONTENT = "# The local cloud runs this function from its CDK asset directory, not from this zip.\n"
SAFE_API_NAME = re.compile(r"[^A-Za-z0-9]")


class _PlaceholderAttributes(dict[str, Any]):
    """Any attribute of a resource that has no local counterpart: a recognisable placeholder."""

    def __init__(self, logical_id: str) -> None:
        super().__init__()
        self._logical_id = logical_id

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> str:
        return f"local-placeholder:{self._logical_id}.{key}"


@dataclass
class ProvisionedResource:
    """One template resource as it exists locally."""

    logical_id: str
    type: str
    physical_id: Any  # what `Ref` returns
    attributes: dict[str, Any] = field(default_factory=dict)  # what `Fn::GetAtt` returns
    path: str | None = None  # the construct path (aws:cdk:path)
    properties: dict[str, Any] = field(default_factory=dict)  # resolved template properties
    emulated: bool = True  # False: skipped, only placeholders exist

    @property
    def arn(self) -> str | None:
        for key in ("Arn", "TopicArn", "StateMachineArn"):
            if key in self.attributes and not isinstance(self.attributes, _PlaceholderAttributes):
                return str(self.attributes[key])
        physical = str(self.physical_id)
        return physical if physical.startswith("arn:") else None

    @property
    def name(self) -> str:
        for key in ("Name", "QueueName", "TopicName", "TableName", "FunctionName"):
            if key in self.attributes and not isinstance(self.attributes, _PlaceholderAttributes):
                return str(self.attributes[key])
        return str(self.physical_id)


@dataclass
class EventSourceMappingSpec:
    logical_id: str
    uuid: str
    function_name: str
    event_source_arn: str
    properties: dict[str, Any]


class Provisioner:
    """Provisions one stack into moto through its AWS APIs."""

    def __init__(
        self,
        stack: StackArtifact,
        resolver: TemplateResolver,
        client: Callable[[str], Any],
        *,
        work_dir: Path,
    ) -> None:
        self.stack = stack
        self.resolver = resolver
        self.client = client
        self.work_dir = work_dir
        self.region = resolver.region
        self.account = resolver.account_id
        self.partition = resolver.partition
        self.resources: dict[str, ProvisionedResource] = {}
        self.functions: dict[str, FunctionSpec] = {}  # logical id -> spec
        self.mappings: list[EventSourceMappingSpec] = []
        self.unresolved: dict[str, str] = {}
        self._created: list[ProvisionedResource] = []
        self._external_roles: list[str] = []
        self._handlers: dict[str, Callable[[str, dict[str, Any]], ProvisionedResource]] = {
            "AWS::IAM::Role": self._iam_role,
            "AWS::DynamoDB::Table": self._dynamodb_table,
            "AWS::DynamoDB::GlobalTable": self._dynamodb_table,
            "AWS::SQS::Queue": self._sqs_queue,
            "AWS::SNS::Topic": self._sns_topic,
            "AWS::SNS::Subscription": self._sns_subscription,
            "AWS::Events::EventBus": self._event_bus,
            "AWS::Events::Rule": self._event_rule,
            "AWS::Events::Archive": self._event_archive,
            "AWS::SSM::Parameter": self._ssm_parameter,
            "AWS::KMS::Key": self._kms_key,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::Lambda::Function": self._lambda_function,
            "AWS::Lambda::Alias": self._lambda_alias,
            "AWS::Lambda::Version": self._lambda_version,
            "AWS::Lambda::EventSourceMapping": self._event_source_mapping,
            "AWS::StepFunctions::StateMachine": self._state_machine,
            "AWS::StepFunctions::Activity": self._activity,
            "AWS::ApiGateway::RestApi": self._rest_api,
            "AWS::ApiGateway::Resource": self._api_resource,
            "AWS::ApiGateway::Method": self._api_method,
            "AWS::ApiGateway::Deployment": self._api_deployment,
            "AWS::ApiGateway::Stage": self._api_stage,
            "AWS::ApiGateway::Model": self._api_model,
            "AWS::ApiGateway::RequestValidator": self._api_validator,
            "AWS::ApiGateway::GatewayResponse": self._api_gateway_response,
            "AWS::S3::Bucket": self._s3_bucket,
        }

    # -- driver --------------------------------------------------------------------------

    def provision_all(self, progress: Callable[[ProvisionedResource], None] | None = None) -> None:
        template_resources = self.stack.resources
        for logical_id in dependency_order(template_resources):
            definition = template_resources[logical_id]
            condition = definition.get("Condition")
            if condition and not self.resolver.condition(condition):
                log.debug("skipping %s: condition %s is false", logical_id, condition)
                continue
            resource = self.provision(logical_id, definition)
            if progress is not None:
                progress(resource)

    def provision(self, logical_id: str, definition: dict[str, Any]) -> ProvisionedResource:
        kind = definition.get("Type", "")
        handler = self._handlers.get(kind)
        path = self.stack.construct_paths.get(logical_id)
        if handler is None:
            return self._skip(logical_id, kind, path, "inert" if kind in INERT_TYPES else "not emulated")
        try:
            properties = self.resolver.resolve(definition.get("Properties", {})) or {}
        except Unresolvable as error:
            self.unresolved[logical_id] = str(error)
            log.warning("%s (%s) is not provisioned: %s", logical_id, kind, error)
            return self._skip(logical_id, kind, path, str(error))
        resource = handler(logical_id, properties)
        resource.type = kind
        resource.path = path
        resource.properties = properties
        self.resolver.register(logical_id, resource.physical_id, resource.attributes)
        self.resources[logical_id] = resource
        self._created.append(resource)
        log.debug("provisioned %s %s -> %s", kind, logical_id, resource.physical_id)
        return resource

    def teardown(self) -> None:
        """Deletes what `provision_all` created, newest first, so that the stack can start again
        while other stacks keep running in the same moto server."""
        deleters: dict[str, Callable[[ProvisionedResource], None]] = {
            "AWS::IAM::Role": lambda r: self.client("iam").delete_role(RoleName=r.physical_id),
            "AWS::DynamoDB::Table": lambda r: self.client("dynamodb").delete_table(TableName=r.physical_id),
            "AWS::SQS::Queue": lambda r: self.client("sqs").delete_queue(QueueUrl=r.physical_id),
            "AWS::SNS::Topic": lambda r: self.client("sns").delete_topic(TopicArn=r.physical_id),
            "AWS::SNS::Subscription": lambda r: self.client("sns").unsubscribe(SubscriptionArn=r.physical_id),
            "AWS::Events::EventBus": lambda r: self.client("events").delete_event_bus(Name=r.physical_id),
            "AWS::Events::Rule": self._delete_rule,
            "AWS::Events::Archive": lambda r: self.client("events").delete_archive(ArchiveName=r.physical_id),
            "AWS::SSM::Parameter": lambda r: self.client("ssm").delete_parameter(Name=r.physical_id),
            "AWS::KMS::Key": lambda r: self.client("kms").schedule_key_deletion(
                KeyId=r.physical_id, PendingWindowInDays=7
            ),
            "AWS::Logs::LogGroup": lambda r: self.client("logs").delete_log_group(logGroupName=r.physical_id),
            "AWS::Lambda::Function": lambda r: self.client("lambda").delete_function(FunctionName=r.physical_id),
            "AWS::StepFunctions::StateMachine": lambda r: self.client("stepfunctions").delete_state_machine(
                stateMachineArn=r.physical_id
            ),
            "AWS::StepFunctions::Activity": lambda r: self.client("stepfunctions").delete_activity(
                activityArn=r.physical_id
            ),
            "AWS::ApiGateway::RestApi": lambda r: self.client("apigateway").delete_rest_api(restApiId=r.physical_id),
            "AWS::S3::Bucket": self._delete_bucket,
        }
        deleters["AWS::DynamoDB::GlobalTable"] = deleters["AWS::DynamoDB::Table"]
        for resource in reversed(self._created):
            delete = deleters.get(resource.type)
            if delete is None:
                continue
            try:
                delete(resource)
            except Exception as error:
                log.debug("teardown of %s failed: %s", resource.logical_id, error)
        for role in self._external_roles:
            with contextlib.suppress(Exception):
                self.client("iam").delete_role(RoleName=role)
        self._created.clear()

    def _delete_rule(self, resource: ProvisionedResource) -> None:
        events = self.client("events")
        bus = resource.properties.get("EventBusName", "default")
        name = resource.attributes["Name"]
        targets = events.list_targets_by_rule(Rule=name, EventBusName=bus).get("Targets", [])
        if targets:
            events.remove_targets(Rule=name, EventBusName=bus, Ids=[t["Id"] for t in targets])
        events.delete_rule(Name=name, EventBusName=bus)

    def _delete_bucket(self, resource: ProvisionedResource) -> None:
        s3 = self.client("s3")
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=resource.physical_id):
            for version in page.get("Versions", []) + page.get("DeleteMarkers", []):
                s3.delete_object(Bucket=resource.physical_id, Key=version["Key"], VersionId=version["VersionId"])
        s3.delete_bucket(Bucket=resource.physical_id)

    def _skip(self, logical_id: str, kind: str, path: str | None, why: str) -> ProvisionedResource:
        level = logging.DEBUG if kind in INERT_TYPES or why == "inert" else logging.INFO
        log.log(level, "skipping %s (%s): %s", logical_id, kind, why)
        placeholder = _PlaceholderAttributes(logical_id)
        resource = ProvisionedResource(
            logical_id, kind, physical_name(self.stack.stack_name, logical_id, 128), placeholder, path, emulated=False
        )
        self.resolver.register(logical_id, resource.physical_id)
        self.resolver.attributes[logical_id] = placeholder
        self.resources[logical_id] = resource
        return resource

    def _name(self, logical_id: str, max_length: int, suffix: str = "") -> str:
        return physical_name(self.stack.stack_name, logical_id, max_length, suffix)

    def _arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account}:{resource}"

    # -- IAM -----------------------------------------------------------------------------

    def _iam_role(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        name = props.get("RoleName") or self._name(logical_id, 64)
        path = props.get("Path", "/")
        document = props.get("AssumeRolePolicyDocument", {})
        response = self.client("iam").create_role(
            RoleName=name,
            Path=path,
            AssumeRolePolicyDocument=document if isinstance(document, str) else json.dumps(document),
        )["Role"]
        return ProvisionedResource(
            logical_id, "AWS::IAM::Role", name, {"Arn": response["Arn"], "RoleId": response["RoleId"]}
        )

    def ensure_role(self, role_arn: str) -> None:
        """Functions may use a role from outside the stack: it must exist for moto's Lambda."""
        iam = self.client("iam")
        name = role_arn.rsplit("/", 1)[-1]
        try:
            iam.get_role(RoleName=name)
        except iam.exceptions.NoSuchEntityException:
            resource = role_arn.split(":role/", 1)[-1]  # [path/]name
            path = "/" + resource.rsplit("/", 1)[0] + "/" if "/" in resource else "/"
            iam.create_role(
                RoleName=name,
                Path=path,
                AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
            )

    # -- DynamoDB ------------------------------------------------------------------------

    def _dynamodb_table(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        name = props.get("TableName") or self._name(logical_id, 255)
        billing = props.get("BillingMode", "PROVISIONED")
        throughput = props.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props.get("AttributeDefinitions", []),
            "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            request["ProvisionedThroughput"] = throughput

        def index(definition: dict[str, Any], with_throughput: bool) -> dict[str, Any]:
            result: dict[str, Any] = {
                key: definition[key] for key in ("IndexName", "KeySchema", "Projection") if key in definition
            }
            if with_throughput and billing == "PROVISIONED":
                result["ProvisionedThroughput"] = definition.get("ProvisionedThroughput", throughput)
            return result

        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = [index(gsi, True) for gsi in props["GlobalSecondaryIndexes"]]
        if props.get("LocalSecondaryIndexes"):
            request["LocalSecondaryIndexes"] = [index(lsi, False) for lsi in props["LocalSecondaryIndexes"]]
        stream = props.get("StreamSpecification", {})
        if stream.get("StreamViewType"):
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        dynamodb = self.client("dynamodb")
        table = dynamodb.create_table(**request)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled", True) and ttl.get("AttributeName"):
            dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )
        attributes = {"Arn": table["TableArn"], "TableName": name, "TableId": table.get("TableId", name)}
        if table.get("LatestStreamArn"):
            attributes["StreamArn"] = table["LatestStreamArn"]
        return ProvisionedResource(logical_id, "AWS::DynamoDB::Table", name, attributes)

    # -- SQS / SNS -----------------------------------------------------------------------

    def _sqs_queue(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        fifo = str(props.get("FifoQueue", "")).lower() == "true"
        name = props.get("QueueName") or self._name(logical_id, 80, ".fifo" if fifo else "")
        attribute_names = (
            "DelaySeconds",
            "MaximumMessageSize",
            "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds",
            "VisibilityTimeout",
            "FifoQueue",
            "ContentBasedDeduplication",
            "DeduplicationScope",
            "FifoThroughputLimit",
            "KmsMasterKeyId",
            "KmsDataKeyReusePeriodSeconds",
            "SqsManagedSseEnabled",
        )
        attributes = {key: _text(props[key]) for key in attribute_names if key in props}
        for key in ("RedrivePolicy", "RedriveAllowPolicy"):
            if key in props:
                attributes[key] = props[key] if isinstance(props[key], str) else json.dumps(props[key])
        url = self.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = self._arn("sqs", name)
        return ProvisionedResource(logical_id, "AWS::SQS::Queue", url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def _sns_topic(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        fifo = str(props.get("FifoTopic", "")).lower() == "true"
        name = props.get("TopicName") or self._name(logical_id, 256, ".fifo" if fifo else "")
        attributes = {
            key: _text(props[key]) for key in ("DisplayName", "FifoTopic", "ContentBasedDeduplication") if key in props
        }
        sns = self.client("sns")
        arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
        for subscription in props.get("Subscription", []):
            sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
        return ProvisionedResource(logical_id, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name})

    def _sns_subscription(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        attributes: dict[str, str] = {}
        for key in ("RawMessageDelivery", "FilterPolicyScope"):
            if key in props:
                attributes[key] = _text(props[key])
        for key in ("FilterPolicy", "RedrivePolicy"):
            if key in props:
                attributes[key] = props[key] if isinstance(props[key], str) else json.dumps(props[key])
        arn = self.client("sns").subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props.get("Endpoint", ""),
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return ProvisionedResource(logical_id, "AWS::SNS::Subscription", arn, {"Arn": arn})

    # -- EventBridge ---------------------------------------------------------------------

    def _event_bus(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        name = props["Name"]
        arn = self.client("events").create_event_bus(Name=name)["EventBusArn"]
        return ProvisionedResource(logical_id, "AWS::Events::EventBus", name, {"Arn": arn, "Name": name})

    def _event_rule(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        name = props.get("Name") or self._name(logical_id, 64)
        bus = props.get("EventBusName", "default")
        bus_name = bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus
        request: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        if "EventPattern" in props:
            pattern = props["EventPattern"]
            request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        if "ScheduleExpression" in props:
            request["ScheduleExpression"] = props["ScheduleExpression"]
            log.info(
                "rule %s has a schedule (%s); the local scheduler fires it", logical_id, props["ScheduleExpression"]
            )
        if "Description" in props:
            request["Description"] = props["Description"]
        events = self.client("events")
        arn = events.put_rule(**request)["RuleArn"]
        targets = [_target(target) for target in props.get("Targets", [])]
        for start in range(0, len(targets), 10):
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets[start : start + 10])
        ref = name if bus_name == "default" else f"{bus_name}|{name}"
        return ProvisionedResource(logical_id, "AWS::Events::Rule", ref, {"Arn": arn, "Name": name})

    def _event_archive(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        name = props.get("ArchiveName") or self._name(logical_id, 48)
        request: dict[str, Any] = {"ArchiveName": name, "EventSourceArn": props["SourceArn"]}
        if props.get("Description"):
            request["Description"] = props["Description"]
        if "EventPattern" in props:
            pattern = props["EventPattern"]
            request["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        if "RetentionDays" in props:
            request["RetentionDays"] = int(props["RetentionDays"])
        arn = self.client("events").create_archive(**request)["ArchiveArn"]
        return ProvisionedResource(logical_id, "AWS::Events::Archive", name, {"Arn": arn, "ArchiveName": name})

    # -- SSM / Logs / S3 -----------------------------------------------------------------

    def _ssm_parameter(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        name = props.get("Name") or f"CFN-{self._name(logical_id, 1000)}"
        request: dict[str, Any] = {"Name": name, "Value": _text(props["Value"]), "Type": props.get("Type", "String")}
        for key in ("Description", "AllowedPattern", "Tier", "DataType"):
            if key in props:
                request[key] = props[key]
        self.client("ssm").put_parameter(Overwrite=True, **request)
        return ProvisionedResource(
            logical_id, "AWS::SSM::Parameter", name, {"Type": request["Type"], "Value": request["Value"]}
        )

    def _kms_key(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        # A real key in moto: Encrypt/Decrypt work, and moto binds the EncryptionContext to the
        # ciphertext as KMS does. The key policy is not enforced (moto does not evaluate IAM).
        request: dict[str, Any] = {
            "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            "KeySpec": props.get("KeySpec", "SYMMETRIC_DEFAULT"),
        }
        if props.get("Description"):
            request["Description"] = props["Description"]
        kms = self.client("kms")
        metadata = kms.create_key(**request)["KeyMetadata"]
        if str(props.get("EnableKeyRotation", "")).lower() == "true":
            kms.enable_key_rotation(KeyId=metadata["KeyId"])
        return ProvisionedResource(
            logical_id, "AWS::KMS::Key", metadata["KeyId"], {"Arn": metadata["Arn"], "KeyId": metadata["KeyId"]}
        )

    def _log_group(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        name = props.get("LogGroupName") or self._name(logical_id, 512)
        logs = self.client("logs")
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=name)
        if props.get("RetentionInDays"):
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        return ProvisionedResource(
            logical_id, "AWS::Logs::LogGroup", name, {"Arn": self._arn("logs", f"log-group:{name}:*")}
        )

    def _s3_bucket(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        name = props.get("BucketName") or self._name(logical_id, 63).lower()
        s3 = self.client("s3")
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        return ProvisionedResource(
            logical_id,
            "AWS::S3::Bucket",
            name,
            {
                "Arn": f"arn:{self.partition}:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
            },
        )

    # -- Lambda --------------------------------------------------------------------------

    def _lambda_function(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        name = props.get("FunctionName") or self._name(logical_id, 64)
        role = props["Role"]
        self.ensure_role(role)
        runtime = props.get("Runtime", "python3.13")
        handler = props.get("Handler", "index.handler")
        environment = {key: _text(value) for key, value in props.get("Environment", {}).get("Variables", {}).items()}
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
        arn = self.client("lambda").create_function(**request)["FunctionArn"]
        logging_config = props.get("LoggingConfig", {})
        self.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=arn,
            handler=handler,
            runtime=runtime,
            code_dir=self._code_dir(logical_id, props),
            environment=environment,
            timeout=timeout,
            memory_size=memory,
            log_format=logging_config.get("LogFormat"),
            application_log_level=logging_config.get("ApplicationLogLevel"),
            log_group=logging_config.get("LogGroup"),
        )
        return ProvisionedResource(logical_id, "AWS::Lambda::Function", name, {"Arn": arn, "FunctionName": name})

    def _code_dir(self, logical_id: str, props: dict[str, Any]) -> Path | None:
        code = props.get("Code", {})
        if "ZipFile" in code:
            directory = self.work_dir / "inline" / logical_id
            directory.mkdir(parents=True, exist_ok=True)
            module = props.get("Handler", "index.handler").rsplit(".", 1)[0].replace(".", "/")
            (directory / f"{module}.py").write_text(str(code["ZipFile"]))
            return directory
        asset = self.stack.asset_for(logical_id, code)
        if asset is None:
            log.warning("function %s has no local code asset (%s); invocations will fail", logical_id, code)
            return None
        if asset.path.is_dir():
            return asset.path
        if asset.path.suffix == ".zip" and asset.path.is_file():
            directory = self.work_dir / "assets" / asset.asset_hash
            if not (directory / ".extracted").exists():
                directory.mkdir(parents=True, exist_ok=True)
                with zipfile.ZipFile(asset.path) as archive:
                    archive.extractall(directory)
                (directory / ".extracted").touch()
            return directory
        log.warning("function %s: asset %s is not a directory or zip", logical_id, asset.path)
        return None

    def _lambda_alias(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        function = str(props["FunctionName"]).split(":function:")[-1].split(":")[0]
        arn = f"{self._arn('lambda', 'function:' + function)}:{props['Name']}"
        try:
            arn = self.client("lambda").create_alias(
                FunctionName=function, Name=props["Name"], FunctionVersion=str(props.get("FunctionVersion", "$LATEST"))
            )["AliasArn"]
        except Exception as error:  # moto may not know the version; the alias ARN still routes by name
            log.debug("alias %s kept local only: %s", logical_id, error)
        return ProvisionedResource(logical_id, "AWS::Lambda::Alias", arn, {"AliasArn": arn})

    def _lambda_version(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        function = str(props["FunctionName"]).split(":function:")[-1].split(":")[0]
        response = self.client("lambda").publish_version(FunctionName=function)
        return ProvisionedResource(
            logical_id, "AWS::Lambda::Version", response["FunctionArn"], {"Version": response["Version"]}
        )

    def _event_source_mapping(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        # Deliberately not registered in moto: moto would fire it synchronously inside SendMessage
        # / PutItem. The runner polls the source itself (local.mappings).
        function = str(props["FunctionName"])
        if function.startswith("arn:"):
            function = function.split(":function:", 1)[1].split(":", maxsplit=1)[0]
        mapping_uuid = _uuid_for(self.stack.stack_name, logical_id)
        self.mappings.append(
            EventSourceMappingSpec(logical_id, mapping_uuid, function, str(props.get("EventSourceArn", "")), props)
        )
        return ProvisionedResource(logical_id, "AWS::Lambda::EventSourceMapping", mapping_uuid, {"Id": mapping_uuid})

    # -- Step Functions ------------------------------------------------------------------

    def _state_machine(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        name = props.get("StateMachineName") or self._name(logical_id, 80)
        if "DefinitionString" in props:
            definition = str(props["DefinitionString"])
        elif "Definition" in props:
            definition = json.dumps(props["Definition"])
        else:
            raise Unresolvable(f"state machine {logical_id}: DefinitionS3Location is not supported locally")
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + key + "}", _text(value))
        role = props.get("RoleArn") or self._arn("iam", "role/local-state-machine", region=False)
        response = self.client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=role, type=props.get("StateMachineType", "STANDARD")
        )
        arn = response["stateMachineArn"]
        return ProvisionedResource(
            logical_id,
            "AWS::StepFunctions::StateMachine",
            arn,
            {"Arn": arn, "Name": name, "StateMachineRevisionId": "INITIAL"},
        )

    def _activity(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        arn = self.client("stepfunctions").create_activity(name=props["Name"])["activityArn"]
        return ProvisionedResource(logical_id, "AWS::StepFunctions::Activity", arn, {"Name": props["Name"]})

    # -- API Gateway (control plane mirrored in moto; the data plane is local.apigateway) ------

    def _rest_api(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        if "Body" in props or "BodyS3Location" in props:
            log.warning("REST API %s is defined by an OpenAPI body; only Resource/Method routes are served", logical_id)
        request: dict[str, Any] = {"name": props.get("Name", logical_id)}
        if props.get("Description"):
            request["description"] = props["Description"]
        if props.get("BinaryMediaTypes"):
            request["binaryMediaTypes"] = props["BinaryMediaTypes"]
        apigateway = self.client("apigateway")
        api_id = apigateway.create_rest_api(**request)["id"]
        root = next(item["id"] for item in apigateway.get_resources(restApiId=api_id)["items"] if item["path"] == "/")
        return ProvisionedResource(
            logical_id, "AWS::ApiGateway::RestApi", api_id, {"RootResourceId": root, "RestApiId": api_id}
        )

    def _api_resource(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        resource_id = self.client("apigateway").create_resource(
            restApiId=props["RestApiId"], parentId=props["ParentId"], pathPart=props["PathPart"]
        )["id"]
        return ProvisionedResource(logical_id, "AWS::ApiGateway::Resource", resource_id, {"ResourceId": resource_id})

    def _api_method(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        apigateway = self.client("apigateway")
        api_id, resource_id, method = props["RestApiId"], props["ResourceId"], props["HttpMethod"]
        try:
            apigateway.put_method(
                restApiId=api_id,
                resourceId=resource_id,
                httpMethod=method,
                authorizationType=props.get("AuthorizationType", "NONE"),
            )
            integration = props.get("Integration", {})
            if integration.get("Type"):
                request = {"type": integration["Type"]}
                if integration.get("Uri"):
                    request["uri"] = integration["Uri"]
                if integration.get("IntegrationHttpMethod"):
                    request["integrationHttpMethod"] = integration["IntegrationHttpMethod"]
                apigateway.put_integration(restApiId=api_id, resourceId=resource_id, httpMethod=method, **request)
        except Exception as error:  # the control-plane mirror is a convenience; routing does not need it
            log.debug("API method %s not mirrored in moto: %s", logical_id, error)
        return ProvisionedResource(logical_id, "AWS::ApiGateway::Method", f"{api_id}-{resource_id}-{method}", {})

    def _api_deployment(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        deployment_id = _uuid_for(self.stack.stack_name, logical_id).replace("-", "")[:10]
        try:
            request: dict[str, Any] = {"restApiId": props["RestApiId"]}
            if props.get("StageName"):
                request["stageName"] = props["StageName"]
            deployment_id = self.client("apigateway").create_deployment(**request)["id"]
        except Exception as error:
            log.debug("API deployment %s not mirrored in moto: %s", logical_id, error)
        return ProvisionedResource(
            logical_id, "AWS::ApiGateway::Deployment", deployment_id, {"DeploymentId": deployment_id}
        )

    def _api_stage(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        try:
            self.client("apigateway").create_stage(
                restApiId=props["RestApiId"],
                stageName=props["StageName"],
                deploymentId=props["DeploymentId"],
                variables={key: _text(value) for key, value in props.get("Variables", {}).items()},
            )
        except Exception as error:
            log.debug("API stage %s not mirrored in moto: %s", logical_id, error)
        return ProvisionedResource(logical_id, "AWS::ApiGateway::Stage", props["StageName"], {})

    def _api_model(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        name = props.get("Name") or SAFE_API_NAME.sub("", logical_id)
        try:
            schema = props.get("Schema", {})
            self.client("apigateway").create_model(
                restApiId=props["RestApiId"],
                name=name,
                contentType=props.get("ContentType", "application/json"),
                schema=schema if isinstance(schema, str) else json.dumps(schema),
            )
        except Exception as error:
            log.debug("API model %s not mirrored in moto: %s", logical_id, error)
        return ProvisionedResource(logical_id, "AWS::ApiGateway::Model", name, {})

    def _api_gateway_response(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        # The local API shapes its own errors with these (local.apigateway); moto keeps a copy.
        request: dict[str, Any] = {"restApiId": props["RestApiId"], "responseType": props["ResponseType"]}
        if props.get("StatusCode"):
            request["statusCode"] = str(props["StatusCode"])
        if props.get("ResponseParameters"):
            request["responseParameters"] = _text_map(props["ResponseParameters"])
        if props.get("ResponseTemplates"):
            request["responseTemplates"] = _text_map(props["ResponseTemplates"])
        try:
            self.client("apigateway").put_gateway_response(**request)
        except Exception as error:
            log.debug("gateway response %s not mirrored in moto: %s", logical_id, error)
        return ProvisionedResource(
            logical_id, "AWS::ApiGateway::GatewayResponse", f"{props['RestApiId']}-{props['ResponseType']}", {}
        )

    def _api_validator(self, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
        validator_id = _uuid_for(self.stack.stack_name, logical_id).replace("-", "")[:6]
        try:
            validator_id = self.client("apigateway").create_request_validator(
                restApiId=props["RestApiId"],
                name=props.get("Name", logical_id),
                validateRequestBody=bool(props.get("ValidateRequestBody", False)),
                validateRequestParameters=bool(props.get("ValidateRequestParameters", False)),
            )["id"]
        except Exception as error:
            log.debug("API request validator %s not mirrored in moto: %s", logical_id, error)
        return ProvisionedResource(
            logical_id, "AWS::ApiGateway::RequestValidator", validator_id, {"RequestValidatorId": validator_id}
        )


def _text_map(values: dict[str, Any]) -> dict[str, str]:
    return {key: _text(value) for key, value in values.items()}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _target(target: dict[str, Any]) -> dict[str, Any]:
    allowed = (
        "Id",
        "Arn",
        "RoleArn",
        "Input",
        "InputPath",
        "InputTransformer",
        "SqsParameters",
        "RetryPolicy",
        "DeadLetterConfig",
        "HttpParameters",
    )
    result = {key: target[key] for key in allowed if key in target}
    if "Input" in result and not isinstance(result["Input"], str):
        result["Input"] = json.dumps(result["Input"])
    return result


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("LOCAL_CLOUD.py", DUMMY_ZIP_CONTENT)
    return buffer.getvalue()


def _uuid_for(*parts: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, "local-cloud:" + ":".join(parts)))
