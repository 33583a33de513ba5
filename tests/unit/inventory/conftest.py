"""Fixtures for the inventory unit tests: its environment, table, bus and API events (built with tests/support)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from shared.events import Envelope
from tests.support.aws import create_table, service_environment
from tests.support.events import BusTap, eventbridge_event
from tests.support.events import sqs_batch as sqs_batch_of

TABLE = "inventory-test"
BUS = "orderflow-test"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from service_environment(monkeypatch, "inventory", INVENTORY_TABLE=TABLE, EVENT_BUS_NAME=BUS)


@pytest.fixture
def table(aws: None) -> str:
    create_table(TABLE)
    return TABLE


def _scan(table_name: str = TABLE) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=table_name)["Items"]


@pytest.fixture
def scan_items() -> Callable[..., list[dict[str, Any]]]:
    """Every raw item in the table, to prove what was (not) written."""
    return _scan


@pytest.fixture
def bus(aws: None) -> BusTap:
    """Every event put on the bus (`drain()`), read back from an SQS queue that a catch-all rule feeds."""
    return BusTap(BUS, create=True)


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


@pytest.fixture
def sqs_batch() -> Callable[..., dict[str, Any]]:
    """An SQS batch whose bodies are EventBridge events (or text), as the rule -> queue -> Lambda path delivers."""
    return sqs_batch_of


@pytest.fixture
def as_eventbridge() -> Callable[[Envelope], dict[str, Any]]:
    return eventbridge_event
