"""Fixtures for the payments unit tests: its environment, table, bus and payment-reference key (see tests/support)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from shared import dependencies
from shared.payment_ref import KmsPaymentRefs
from tests.support.aws import create_table, service_environment
from tests.support.events import BusTap, sqs_event

TABLE = "payments-test"
BUS = "orderflow-test"


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from service_environment(
        monkeypatch,
        "payments",
        "TAX_RATE_BPS",
        "PAYMENT_PROVIDER",
        "PAYMENT_WORKFLOW_ARN",
        PAYMENTS_TABLE=TABLE,
        EVENT_BUS_NAME=BUS,
    )


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
    create_table(TABLE)
    return TABLE


@pytest.fixture
def items(table: str) -> Callable[[str], list[dict[str, Any]]]:
    """Raw items whose key starts with a prefix (PAY#, SIM#AUTH#, ...)."""

    def scan(prefix: str = "") -> list[dict[str, Any]]:
        found = boto3.client("dynamodb").scan(TableName=table)["Items"]
        return [item for item in found if item["pk"]["S"].startswith(prefix)]

    return scan


@pytest.fixture
def bus(aws: None) -> BusTap:
    """Every event put on the bus (`drain()`), read back from an SQS queue that a catch-all rule feeds."""
    return BusTap(BUS, create=True)


class TokensAsRefs:
    """For logic tests: the "reference" is the token itself (sealing with KMS is tested with the
    adapter, tests/unit/shared/test_payment_ref.py, and through the handlers)."""

    def open(self, order_id: str, ref: str) -> str:
        return ref


@pytest.fixture
def sqs_batch() -> Callable[..., dict[str, Any]]:
    """An SQS batch, one record per envelope, each as the bus's rule delivered it."""
    return sqs_event
