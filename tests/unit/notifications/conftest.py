"""Notifications tests run against moto: an analytics table and a topic with an SQS subscriber to read it."""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

import notifications.observability  # noqa: F401 - its logger binds to the session's stdout, not one test's capture
from shared import faults
from shared.events import Envelope

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class LambdaContext:
    function_name: str = "notifications-consumer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:notifications-consumer"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def sqs_record(envelope: Envelope) -> dict[str, Any]:
    """One SQS record whose body is the event as EventBridge delivers it."""
    body = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": envelope.detail_type,
        "source": envelope.source,
        "account": ACCOUNT,
        "time": envelope.metadata.time.isoformat(),
        "region": REGION,
        "resources": [],
        "detail": envelope.detail(),
    }
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": json.dumps(body),
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": ACCOUNT,
            "ApproximateFirstReceiveTimestamp": "1700000000000",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:notifications",
        "awsRegion": REGION,
    }


@dataclass
class NotificationsStack:
    handler: ModuleType
    dynamodb: Any
    sqs: Any
    ssm: Any
    table: str
    topic_arn: str
    subscriber_url: str

    def sqs_event(self, *envelopes: Envelope) -> dict[str, Any]:
        return {"Records": [sqs_record(envelope) for envelope in envelopes]}

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.handler.lambda_handler(event, LambdaContext())

    def deliver(self, *envelopes: Envelope) -> dict[str, Any]:
        return self.invoke(self.sqs_event(*envelopes))

    def notifications(self) -> list[dict[str, Any]]:
        """What the topic's subscriber received so far: the raw text, the parsed message and its attributes."""
        received: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.subscriber_url, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return received
            for message in messages:
                envelope = json.loads(message["Body"])
                received.append(
                    {
                        "raw": envelope["Message"],
                        "message": json.loads(envelope["Message"]),
                        "attributes": {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()},
                    }
                )
                self.sqs.delete_message(QueueUrl=self.subscriber_url, ReceiptHandle=message["ReceiptHandle"])

    def item(self, pk: str) -> dict[str, Any] | None:
        return self.dynamodb.get_item(TableName=self.table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")

    def set_faults(self, document: dict[str, Any]) -> None:
        self.ssm.put_parameter(Name="/orderflow/faults", Value=json.dumps(document), Type="String", Overwrite=True)
        faults.reset_cache()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ORDERFLOW_FAULTS_PARAMETER", raising=False)
    faults.reset_cache()
    with mock_aws():
        yield
    faults.reset_cache()


@pytest.fixture
def stack(aws: None, monkeypatch: pytest.MonkeyPatch) -> NotificationsStack:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="analytics",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    topic_arn = boto3.client("sns").create_topic(Name="notifications")["TopicArn"]
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

    monkeypatch.setenv("ANALYTICS_TABLE", "analytics")
    monkeypatch.setenv("NOTIFICATIONS_TOPIC_ARN", topic_arn)
    monkeypatch.setenv("ORDERFLOW_FAULTS_PARAMETER", "/orderflow/faults")
    # Re-import inside the mock: the module builds its clients at cold start.
    handler = importlib.reload(importlib.import_module("notifications.handlers.consumer"))
    return NotificationsStack(handler, dynamodb, sqs, boto3.client("ssm"), "analytics", topic_arn, queue_url)
