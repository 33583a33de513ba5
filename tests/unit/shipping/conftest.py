"""Shipping's own data for its tests (moto, the context and the event builders come from tests/unit/conftest.py)."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest

import shipping.observability  # noqa: F401 - its logger binds to the session's stdout, not one test's capture
from shared import faults
from shared.events import Envelope
from tests.support.events import BusTap, LambdaContext, sqs_event


@dataclass
class ShippingStack:
    handler: ModuleType
    dynamodb: Any
    ssm: Any
    table: str
    bus: str
    tap: BusTap

    def deliver(self, *envelopes: Envelope) -> dict[str, Any]:
        return self.invoke(sqs_event(*envelopes))

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.handler.lambda_handler(event, LambdaContext("shipping-consumer"))

    @staticmethod
    def sqs_event(*envelopes: Envelope) -> dict[str, Any]:
        return sqs_event(*envelopes)

    def shipments(self) -> list[dict[str, Any]]:
        return self.dynamodb.scan(TableName=self.table, ConsistentRead=True)["Items"]

    def announced(self) -> list[dict[str, Any]]:
        """Every event the bus received since the last call."""
        return self.tap.drain()

    def set_faults(self, document: dict[str, Any]) -> None:
        self.ssm.put_parameter(Name="/orderflow/faults", Value=json.dumps(document), Type="String", Overwrite=True)
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
    boto3.client("events").create_event_bus(Name="orderflow")
    tap = BusTap("orderflow")
    monkeypatch.setenv("SHIPMENTS_TABLE", "shipments")
    monkeypatch.setenv("EVENT_BUS_NAME", "orderflow")
    monkeypatch.setenv("ORDERFLOW_FAULTS_PARAMETER", "/orderflow/faults")
    handler = importlib.import_module("shipping.handlers.consumer")
    return ShippingStack(handler, dynamodb, boto3.client("ssm"), "shipments", "orderflow", tap)
