"""Fixtures for the payments unit tests: a moto payments table, a bus tap, a fake publisher."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from shared import dependencies
from shared.events import Envelope
from shared.payment_ref import KmsPaymentRefs

TABLE = "payments-test"
BUS = "orderflow-test"
# Keeping boto3's default session across tests keeps its parsed service models: creating a
# client then costs ~1 ms instead of ~40 ms. Credentials come from the fake environment below.
FAST_MOTO = {"core": {"reset_boto3_session": False}}


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "payments",
        "POWERTOOLS_METRICS_NAMESPACE": "orderflow",
        "PAYMENTS_TABLE": TABLE,
        "EVENT_BUS_NAME": BUS,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("ORDERFLOW_FAULTS_PARAMETER", "TAX_RATE_BPS", "PAYMENT_PROVIDER", "PAYMENT_WORKFLOW_ARN"):
        monkeypatch.delenv(name, raising=False)
    dependencies.reset()
    yield
    dependencies.reset()


@pytest.fixture
def seal(aws: None, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """A payment-reference key for payments-tasks (PAYMENT_REF_KEY_ID), and what the orders API
    does with it: seal(token, order_id) -> the reference that travels."""
    key = boto3.client("kms").create_key(Description="payment refs")["KeyMetadata"]["Arn"]
    monkeypatch.setenv("PAYMENT_REF_KEY_ID", key)
    dependencies.reset()
    refs = KmsPaymentRefs(key)

    def sealed(token: str, order_id: str = "o-1") -> str:
        return refs.seal(order_id, token)

    return sealed


@pytest.fixture
def table(aws: None) -> str:
    boto3.client("dynamodb").create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return TABLE


@pytest.fixture
def items(table: str) -> Callable[[str], list[dict[str, Any]]]:
    """Raw items whose key starts with a prefix (PAY#, SIM#AUTH#, ...)."""

    def scan(prefix: str = "") -> list[dict[str, Any]]:
        found = boto3.client("dynamodb").scan(TableName=table)["Items"]
        return [item for item in found if item["pk"]["S"].startswith(prefix)]

    return scan


class BusTap:
    """Every event put on the bus, read back from an SQS queue that a catch-all rule feeds."""

    def __init__(self) -> None:
        events = boto3.client("events")
        sqs = boto3.client("sqs")
        events.create_event_bus(Name=BUS)
        self._queue_url = sqs.create_queue(QueueName="tap")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="tap", EventBusName=BUS, EventPattern=json.dumps({"source": [{"prefix": "orderflow."}]}))
        events.put_targets(Rule="tap", EventBusName=BUS, Targets=[{"Id": "tap", "Arn": arn}])

    def events(self) -> list[dict[str, Any]]:
        sqs = boto3.client("sqs")
        received: list[dict[str, Any]] = []
        while batch := sqs.receive_message(QueueUrl=self._queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                received.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        return received


@pytest.fixture
def bus(aws: None) -> BusTap:
    return BusTap()


class TokensAsRefs:
    """For logic tests: the "reference" is the token itself (sealing with KMS is tested with the
    adapter, tests/unit/shared/test_payment_ref.py, and through the handlers)."""

    def open(self, order_id: str, ref: str) -> str:
        return ref


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
def sqs_batch() -> Callable[..., dict[str, Any]]:
    """An SQS batch whose bodies are EventBridge events built from envelopes."""

    def build(*envelopes: Envelope) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "messageId": f"m-{index}",
                    "receiptHandle": f"rh-{index}",
                    "body": json.dumps(
                        {
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
                    ),
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:payments",
                    "awsRegion": "us-east-1",
                }
                for index, envelope in enumerate(envelopes)
            ]
        }

    return build
