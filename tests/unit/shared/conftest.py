"""Fixtures for the shared package's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from shared import faults

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ORDERFLOW_FAULTS_PARAMETER", raising=False)
    faults.reset_cache()
    with mock_aws():
        yield
    faults.reset_cache()
