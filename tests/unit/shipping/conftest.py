"""Shipping's own data for its tests (moto, the consumer and the event builders: tests/conftest.py, tests/support)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import pytest

import shipping.observability  # noqa: F401 - its logger binds to the session's stdout, not one test's capture
from tests.support.aws import create_table
from tests.support.consumer import Consumer, consumer_handler
from tests.support.events import BusTap


@dataclass
class ShippingStack(Consumer):
    dynamodb: Any
    table: str
    bus: str
    tap: BusTap

    def shipments(self) -> list[dict[str, Any]]:
        return self.dynamodb.scan(TableName=self.table, ConsistentRead=True)["Items"]

    def announced(self) -> list[dict[str, Any]]:
        """Every event the bus received since the last call."""
        return self.tap.drain()


@pytest.fixture
def stack(aws: None, monkeypatch: pytest.MonkeyPatch) -> ShippingStack:
    create_table("shipments", key="order_id")
    tap = BusTap("orderflow", create=True)
    handler = consumer_handler(
        monkeypatch, "shipping.handlers.consumer", SHIPMENTS_TABLE="shipments", EVENT_BUS_NAME="orderflow"
    )
    return ShippingStack(handler, "shipping-consumer", boto3.client("dynamodb"), "shipments", "orderflow", tap)
