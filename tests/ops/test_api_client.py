"""`python -m ops api`: SigV4 for the deployed API (botocore signs), unsigned for the local one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.credentials import Credentials

from local.background_server import BackgroundServer
from ops import api
from ops.cli import main


class Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []
    answer: tuple[int, dict[str, Any]] = (201, {"order_id": "o-1", "status": "CONFIRMED"})

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        Recorder.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
        status, payload = Recorder.answer
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Location", "/orders/o-1")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.seen = []
    Recorder.answer = (201, {"order_id": "o-1", "status": "CONFIRMED"})
    httpd = BackgroundServer(ThreadingHTTPServer(("127.0.0.1", 0), Recorder), "recorder").start()
    try:
        yield f"{httpd.url}/prod"
    finally:
        httpd.stop()


def test_a_signed_call_carries_sigv4_for_execute_api(server):
    answer = api.call(
        "POST",
        api.join(server, "/orders"),
        b'{"a": 1}',
        {"Idempotency-Key": "k-1"},
        credentials=Credentials("AKIDEXAMPLE", "secret"),
        region="eu-west-1",
    )

    assert answer.status == 201 and answer.body["status"] == "CONFIRMED"
    [seen] = Recorder.seen
    authorization = seen["headers"]["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert "idempotency-key" in authorization.split("SignedHeaders=")[1]  # our headers are signed too
    assert seen["headers"]["X-Amz-Date"] and seen["body"] == b'{"a": 1}'
    assert seen["path"] == "/prod/orders"


def test_the_cli_calls_the_local_api_unsigned_and_exits_by_status(server, capsys):
    code = main(["api", "POST", "/orders", "--url", server, "-d", '{"x": 1}', "-H", "Idempotency-Key: k-2"])

    assert code == 0
    [seen] = Recorder.seen
    assert "Authorization" not in seen["headers"]
    assert seen["headers"]["Idempotency-Key"] == "k-2" and seen["headers"]["Content-Type"] == "application/json"
    out = capsys.readouterr().out
    assert "HTTP 201" in out and "Location: /orders/o-1" in out and '"CONFIRMED"' in out

    Recorder.answer = (409, {"order_id": "o-1", "status": "REJECTED", "reason": "OUT_OF_STOCK"})
    assert main(["api", "GET", "/orders/o-1", "--url", server]) == 1


def test_the_cli_signs_for_a_deployed_api_with_the_callers_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDCALLER")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    calls: list[dict[str, Any]] = []

    def fake_call(method, url, body=None, headers=None, *, credentials=None, region=None):
        calls.append({"method": method, "url": url, "credentials": credentials, "region": region})
        return api.ApiAnswer(status=200, headers={}, body={"ok": True})

    monkeypatch.setattr(api, "call", fake_call)
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"

    assert main(["api", "GET", "/orders/o-1", "--url", url]) == 0

    [call] = calls
    assert call["url"] == f"{url}/orders/o-1"
    assert call["credentials"].access_key == "AKIDCALLER" and call["region"] == "eu-west-1"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["api", "POST", "/orders", "--url", "http://127.0.0.1:9/prod", "-d", "{not json"], "--data is not JSON"),
        (["api", "GET", "orders", "--url", "http://127.0.0.1:9/prod"], "must start with '/'"),
        (["api", "GET", "/orders", "--url", "http://127.0.0.1:9/prod", "-H", "nocolon"], "NAME:VALUE"),
    ],
)
def test_bad_input_is_a_usage_error_that_sends_nothing(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
