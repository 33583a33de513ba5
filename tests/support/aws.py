"""A fake AWS environment for tests on moto: credentials, region, a service's settings, tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from shared import dependencies
from tests.support.events import REGION

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def use_fake_aws(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    """Fake credentials, tracing off, no fault document, and `variables`."""
    for name, value in {**FAKE_AWS, **variables}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ORDERFLOW_FAULTS_PARAMETER", raising=False)


def service_environment(monkeypatch: pytest.MonkeyPatch, service: str, *unset: str, **variables: str) -> Iterator[None]:
    """A service's function environment (Powertools' names for `service`, `variables`, none of `unset`),
    its dependencies built afresh for the test and again after it: a fixture's body, `yield from` it."""
    use_fake_aws(monkeypatch, POWERTOOLS_SERVICE_NAME=service, POWERTOOLS_METRICS_NAMESPACE="orderflow", **variables)
    for name in unset:
        monkeypatch.delenv(name, raising=False)
    dependencies.reset()
    yield
    dependencies.reset()


def create_table(name: str, key: str = "pk", **options: Any) -> None:
    """An on-demand table keyed by one string attribute."""
    boto3.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **options,
    )
