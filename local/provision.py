"""Creates a stack's resources in moto, one provisioner per CloudFormation resource type (local.provisioners).

Resources are created in dependency order, each from its own resolved template properties,
and register their `Ref` value and `Fn::GetAtt` attributes for the resources after them.
Types with no local counterpart (IAM policies, alarms, permissions, custom resources...) are
skipped with a debug note; what they would return to `Ref`/`GetAtt` becomes a placeholder so
that nothing that merely mentions them breaks.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local.assembly import StackArtifact
from local.functions import FunctionSpec
from local.provisioned import EventSourceMappingSpec, PlaceholderAttributes, ProvisionedResource
from local.provisioners import (
    apigateway,
    awslambda,
    dynamodb,
    events,
    iam,
    kms,
    logs,
    s3,
    sns,
    sqs,
    ssm,
    stepfunctions,
)
from local.template import TemplateResolver, Unresolvable, physical_name
from local.template_order import dependency_order

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
# CloudFormation type -> the function that creates it (local.provisioners, one module per service).
PROVISIONERS: dict[str, Callable[[Provisioner, str, dict[str, Any]], ProvisionedResource]] = {
    **iam.PROVISIONERS,
    **dynamodb.PROVISIONERS,
    **sqs.PROVISIONERS,
    **sns.PROVISIONERS,
    **events.PROVISIONERS,
    **ssm.PROVISIONERS,
    **kms.PROVISIONERS,
    **logs.PROVISIONERS,
    **s3.PROVISIONERS,
    **awslambda.PROVISIONERS,
    **stepfunctions.PROVISIONERS,
    **apigateway.PROVISIONERS,
}


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
        handler = PROVISIONERS.get(kind)
        path = self.stack.construct_paths.get(logical_id)
        if handler is None:
            return self._skip(logical_id, kind, path, "inert" if kind in INERT_TYPES else "not emulated")
        try:
            properties = self.resolver.resolve(definition.get("Properties", {})) or {}
        except Unresolvable as error:
            self.unresolved[logical_id] = str(error)
            log.warning("%s (%s) is not provisioned: %s", logical_id, kind, error)
            return self._skip(logical_id, kind, path, str(error))
        resource = handler(self, logical_id, properties)
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
        placeholder = PlaceholderAttributes(logical_id)
        resource = ProvisionedResource(
            logical_id, kind, physical_name(self.stack.stack_name, logical_id, 128), placeholder, path, emulated=False
        )
        self.resolver.register(logical_id, resource.physical_id)
        self.resolver.attributes[logical_id] = placeholder
        self.resources[logical_id] = resource
        return resource

    def name_for(self, logical_id: str, max_length: int, suffix: str = "") -> str:
        """The resource's name when the template gives none: `<stack>-<logicalId>`, within the limit."""
        return physical_name(self.stack.stack_name, logical_id, max_length, suffix)

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region else ''}:{self.account}:{resource}"

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
