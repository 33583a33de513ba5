"""Fixtures every service's unit tests share (moto itself, `aws`, is tests/conftest.py's); a service's conftest adds
only its own data."""

from __future__ import annotations

import pytest

from tests.support.events import FakePublisher, LambdaContext


@pytest.fixture
def context() -> LambdaContext:
    """Lambda's context object, as the handlers and Powertools read it."""
    return LambdaContext()


@pytest.fixture
def publisher() -> FakePublisher:
    """A publisher that keeps the events instead of putting them on a bus."""
    return FakePublisher()
