"""Fixtures for the inventory unit tests: moto tables, a bus whose events land in a queue."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from shared import dependencies
from shared.events import Envelope

TABLE = "inventory-test"
BUS = "orderflow-test"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "inventory",
        "POWERTOOLS_METRICS_NAMESPACE": "orderflow",
        "INVENTORY_TABLE": TABLE,
        "EVENT_BUS_NAME": BUS,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ORDERFLOW_FAULTS_PARAMETER", raising=False)
    dependencies.reset()
    yield
    dependencies.reset()


def create_inventory_table(name: str = TABLE) -> None:
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def table(aws: None) -> str:
    create_inventory_table()
    return TABLE


def _scan(table_name: str = TABLE) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=table_name)["Items"]


@pytest.fixture
def scan_items() -> Callable[..., list[dict[str, Any]]]:
    """Every raw item in the table, to prove what was (not) written."""
    return _scan


class BusTap:
    """Every event put on the bus, read back from an SQS queue that a catch-all rule feeds."""

    def __init__(self) -> None:
        events = boto3.client("events")
        sqs = boto3.client("sqs")
        events.create_event_bus(Name=BUS)
        self._queue_url = sqs.create_queue(QueueName="tap")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(Name="tap", EventBusName=BUS, EventPattern=json.dumps({"source": [{"prefix": "orderflow."}]}))
        events.put_targets(Rule="tap", EventBusName=BUS, Targets=[{"Id": "tap", "Arn": queue_arn}])

    def events(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        received: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return received
            for message in batch:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])


@pytest.fixture
def bus(aws: None) -> BusTap:
    return BusTap()


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[Envelope] = []

    def publish(self, events: Any) -> None:
        self.events.extend(events)

    def types(self) -> list[str]:
        return [event.detail_type for event in self.events]


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def api_event() -> Callable[..., dict[str, Any]]:
    """An API Gateway REST proxy event for /inventory/{sku}."""

    def build(method: str, sku: str, body: Any = None, headers: dict[str, str] | None = None) -> dict[str, Any]:
        raw = body if body is None or isinstance(body, str) else json.dumps(body)
        path = f"/inventory/{sku}"
        return {
            "resource": "/inventory/{sku}",
            "path": path,
            "httpMethod": method,
            "headers": {"Content-Type": "application/json", **(headers or {})},
            "multiValueHeaders": {},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": {"sku": sku},
            "stageVariables": None,
            "requestContext": {
                "resourcePath": "/inventory/{sku}",
                "httpMethod": method,
                "path": f"/prod{path}",
                "stage": "prod",
                "requestId": str(uuid.uuid4()),
                "identity": {"sourceIp": "127.0.0.1"},
            },
            "body": raw,
            "isBase64Encoded": False,
        }

    return build


def _sqs_event(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    """An SQS batch whose bodies are EventBridge events, as the rule -> queue -> Lambda path delivers."""
    return {
        "Records": [
            {
                "messageId": f"m-{index}",
                "receiptHandle": f"rh-{index}",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:inventory",
                "awsRegion": "us-east-1",
            }
            for index, body in enumerate(bodies)
        ]
    }


def _eventbridge(envelope: Envelope) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "source": envelope.source,
        "detail-type": envelope.detail_type,
        "account": "123456789012",
        "time": envelope.metadata.time.isoformat(),
        "region": "us-east-1",
        "resources": [],
        "detail": envelope.detail(),
    }


@pytest.fixture
def sqs_batch() -> Callable[..., dict[str, Any]]:
    return _sqs_event


@pytest.fixture
def as_eventbridge() -> Callable[[Envelope], dict[str, Any]]:
    return _eventbridge
