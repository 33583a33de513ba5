"""Shipping tests run against moto: a shipments table, a bus, and a queue that captures what the bus receives."""

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

import shipping.observability  # noqa: F401 - its logger binds to the session's stdout, not one test's capture
from shared import faults
from shared.events import Envelope

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class LambdaContext:
    function_name: str = "shipping-consumer"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:shipping-consumer"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def eventbridge_event(envelope: Envelope) -> dict[str, Any]:
    """An event as EventBridge delivers it into an SQS message body."""
    return {
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


def sqs_record(body: str, message_id: str | None = None) -> dict[str, Any]:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "1700000000000",
            "SenderId": ACCOUNT,
            "ApproximateFirstReceiveTimestamp": "1700000000000",
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:shipping",
        "awsRegion": REGION,
    }


def sqs_event(*envelopes: Envelope) -> dict[str, Any]:
    return {"Records": [sqs_record(json.dumps(eventbridge_event(envelope))) for envelope in envelopes]}


@dataclass
class ShippingStack:
    handler: ModuleType
    dynamodb: Any
    events: Any
    sqs: Any
    ssm: Any
    table: str
    bus: str
    capture_queue_url: str

    def deliver(self, *envelopes: Envelope) -> dict[str, Any]:
        return self.invoke(sqs_event(*envelopes))

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.handler.lambda_handler(event, LambdaContext())

    @staticmethod
    def sqs_event(*envelopes: Envelope) -> dict[str, Any]:
        return sqs_event(*envelopes)

    def shipments(self) -> list[dict[str, Any]]:
        return self.dynamodb.scan(TableName=self.table, ConsistentRead=True)["Items"]

    def announced(self) -> list[dict[str, Any]]:
        """Every event the bus routed to the capture queue so far."""
        received: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.capture_queue_url, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return received
            for message in messages:
                received.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.capture_queue_url, ReceiptHandle=message["ReceiptHandle"])

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
def stack(aws: None, monkeypatch: pytest.MonkeyPatch) -> ShippingStack:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="shipments",
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    events = boto3.client("events")
    events.create_event_bus(Name="orderflow")
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="captured")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="everything", EventBusName="orderflow", EventPattern=json.dumps({"source": [{"prefix": ""}]}))
    events.put_targets(Rule="everything", EventBusName="orderflow", Targets=[{"Id": "capture", "Arn": queue_arn}])
    ssm = boto3.client("ssm")

    monkeypatch.setenv("SHIPMENTS_TABLE", "shipments")
    monkeypatch.setenv("EVENT_BUS_NAME", "orderflow")
    monkeypatch.setenv("ORDERFLOW_FAULTS_PARAMETER", "/orderflow/faults")
    # Re-import inside the mock: the module builds its clients at cold start.
    handler = importlib.reload(importlib.import_module("shipping.handlers.consumer"))
    return ShippingStack(handler, dynamodb, events, sqs, ssm, "shipments", "orderflow", queue_url)
