"""`python -m ops console`: the page and its graph on 127.0.0.1, every other request forwarded to the
API, SigV4-signed for a deployed one (the browser never holds a credential)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.credentials import Credentials

from console.server import ConsoleServer
from tests.ops.test_api_client import Recorder, server  # noqa: F401 - the recording upstream fixture

GRAPH = {"stack": "Orderflow-dev", "state_machines": [], "announces": {}, "event_flow": {}}


def fetch(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


@pytest.fixture
def signed_console(server: str) -> Iterator[ConsoleServer]:  # noqa: F811
    console = ConsoleServer(
        server, GRAPH, credentials=lambda: Credentials("AKIDEXAMPLE", "secret", "token"), region="eu-west-1"
    ).start()
    try:
        yield console
    finally:
        console.stop()


def test_the_page_and_its_graph_are_served(signed_console: ConsoleServer) -> None:
    status, headers, body = fetch(signed_console.url)
    assert status == 200 and headers["Content-Type"].startswith("text/html") and b"orderflow console" in body
    status, _, body = fetch(signed_console.url + "graph.json")
    assert status == 200 and json.loads(body) == GRAPH
    assert fetch(signed_console.url + "%2e%2e/server.py")[0] == 404
    assert Recorder.seen == []  # none of that reached the API


def test_api_calls_are_forwarded_signed(signed_console: ConsoleServer) -> None:
    base = signed_console.url.removesuffix("/_console/")
    status, headers, body = fetch(
        f"{base}/orders",
        "POST",
        b'{"flow": "orchestrated"}',
        {"Content-Type": "application/json", "Idempotency-Key": "k-1", "Cookie": "session=secret"},
    )
    assert status == 201 and json.loads(body)["order_id"] == "o-1"
    assert headers["Location"] == "/orders/o-1"
    [seen] = Recorder.seen
    assert seen["method"] == "POST" and seen["path"] == "/prod/orders"  # the stage of the API's URL kept
    assert seen["body"] == b'{"flow": "orchestrated"}'
    sent = {k.lower(): v for k, v in seen["headers"].items()}
    assert sent["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in sent["authorization"]
    assert sent["x-amz-security-token"] == "token"
    assert sent["idempotency-key"] == "k-1"
    assert "cookie" not in sent  # only the API's own headers are forwarded


def test_without_credentials_calls_go_unsigned(server: str) -> None:  # noqa: F811
    console = ConsoleServer(server, GRAPH).start()
    try:
        status, _, _ = fetch(console.url.removesuffix("/_console/") + "/orders/o-1")
    finally:
        console.stop()
    assert status == 201
    [seen] = Recorder.seen
    assert "authorization" not in {k.lower() for k in seen["headers"]}
