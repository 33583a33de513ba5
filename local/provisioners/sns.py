"""AWS::SNS::Topic and Subscription (filter policy, raw delivery)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from local.provisioned import ProvisionedResource
from local.provisioners.common import text

if TYPE_CHECKING:
    from local.provision import Provisioner


def sns_topic(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    fifo = str(props.get("FifoTopic", "")).lower() == "true"
    name = props.get("TopicName") or provisioner.name_for(logical_id, 256, ".fifo" if fifo else "")
    attributes = {
        key: text(props[key]) for key in ("DisplayName", "FifoTopic", "ContentBasedDeduplication") if key in props
    }
    sns = provisioner.client("sns")
    arn = sns.create_topic(Name=name, Attributes=attributes)["TopicArn"]
    for subscription in props.get("Subscription", []):
        sns.subscribe(TopicArn=arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"])
    return ProvisionedResource(logical_id, "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name})


def sns_subscription(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    attributes: dict[str, str] = {}
    for key in ("RawMessageDelivery", "FilterPolicyScope"):
        if key in props:
            attributes[key] = text(props[key])
    for key in ("FilterPolicy", "RedrivePolicy"):
        if key in props:
            attributes[key] = props[key] if isinstance(props[key], str) else json.dumps(props[key])
    arn = provisioner.client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props.get("Endpoint", ""),
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return ProvisionedResource(logical_id, "AWS::SNS::Subscription", arn, {"Arn": arn})


PROVISIONERS = {
    "AWS::SNS::Topic": sns_topic,
    "AWS::SNS::Subscription": sns_subscription,
}
