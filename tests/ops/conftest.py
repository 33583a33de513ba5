"""Fixtures of the ops tests: a moto account with the stack's resources (see world.py), or a moto server
to point the toolkit at as at the local cloud (moto itself, `aws`, is tests/conftest.py's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from local.moto_server import MotoServer
from tests.ops.world import REGION, World, create_world


@pytest.fixture
def world(aws: None) -> World:
    return create_world()


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server's endpoint, empty, and placeholder credentials for whatever talks to it."""
    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    server = MotoServer("127.0.0.1", 0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto's state is per process: start from nothing, leave nothing behind.
    requests.post(f"{endpoint}/moto-api/reset", timeout=30)
    try:
        yield endpoint
    finally:
        requests.post(f"{endpoint}/moto-api/reset", timeout=30)
        server.stop()
