"""AWS::SQS::Queue: every attribute, RedrivePolicy, FIFO."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from local.provisioned import ProvisionedResource
from local.provisioners.common import text

if TYPE_CHECKING:
    from local.provision import Provisioner


def sqs_queue(provisioner: Provisioner, logical_id: str, props: dict[str, Any]) -> ProvisionedResource:
    fifo = str(props.get("FifoQueue", "")).lower() == "true"
    name = props.get("QueueName") or provisioner.name_for(logical_id, 80, ".fifo" if fifo else "")
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
    attributes = {key: text(props[key]) for key in attribute_names if key in props}
    for key in ("RedrivePolicy", "RedriveAllowPolicy"):
        if key in props:
            attributes[key] = props[key] if isinstance(props[key], str) else json.dumps(props[key])
    url = provisioner.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = provisioner.arn("sqs", name)
    return ProvisionedResource(logical_id, "AWS::SQS::Queue", url, {"Arn": arn, "QueueName": name, "QueueUrl": url})


PROVISIONERS = {
    "AWS::SQS::Queue": sqs_queue,
}
