"""Fixtures every service's unit tests share; a service's conftest adds only its own data."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from shared import dependencies, faults
from tests.support.events import REGION, LambdaContext


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS call, fake credentials, tracing off, no faults, nothing built yet."""
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
    dependencies.reset()
    # Keeping boto3's default session keeps its parsed service models: a client then costs ~1 ms, not ~40.
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        yield
    dependencies.reset()
    faults.reset_cache()


@pytest.fixture
def context() -> LambdaContext:
    """Lambda's context object, as the handlers and Powertools read it."""
    return LambdaContext()
