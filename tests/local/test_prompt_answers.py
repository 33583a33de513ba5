"""local.background_server.PromptAnswers: the local API's and the console's answers leave at once."""

from __future__ import annotations

import io
import socket
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import requests

from local.background_server import PromptAnswers


class _Writes(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[bytes] = []

    def write(self, data: Any) -> int:
        self.calls.append(bytes(data))
        return super().write(data)


def _handler(cls: type[BaseHTTPRequestHandler], command: str = "GET") -> Any:
    handler = cls.__new__(cls)
    handler.wfile = _Writes()
    handler.request_version = handler.protocol_version = "HTTP/1.1"
    handler.command, handler.requestline, handler.close_connection = command, f"{command} / HTTP/1.1", False
    handler.client_address = ("127.0.0.1", 1)
    handler.date_time_string = lambda timestamp=None: "Thu, 03 Dec 2026 10:00:00 GMT"  # type: ignore[method-assign]
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    return handler


def _as_http_server_writes_it(status: int, headers: list[tuple[str, str]], body: bytes, command: str) -> Any:
    handler = _handler(BaseHTTPRequestHandler, command)
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.end_headers()
    if command != "HEAD":
        handler.wfile.write(body)
    return handler


@pytest.mark.parametrize(
    ("status", "headers", "body", "command"),
    [
        (200, [("Content-Type", "application/json"), ("Content-Length", "11")], b'{"ok": true}', "GET"),
        (404, [("Content-Length", "0")], b"", "GET"),
        (201, [("Location", "/orders/1"), ("Content-Length", "2")], b"{}", "HEAD"),
        (599, [("Connection", "close"), ("Content-Length", "1")], b"x", "POST"),
    ],
)
def test_an_answer_is_the_bytes_http_server_sends_in_one_write(
    status: int, headers: list[tuple[str, str]], body: bytes, command: str
) -> None:
    prompt = _handler(PromptAnswers, command)
    prompt.answer(status, headers, body, send_body=command != "HEAD")
    standard = _as_http_server_writes_it(status, headers, body, command)
    assert len(prompt.wfile.calls) == 1
    assert prompt.wfile.getvalue() == standard.wfile.getvalue()
    assert prompt.close_connection == standard.close_connection


def test_the_connection_sends_without_waiting_for_acknowledgements() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        connection, _ = listener.accept()
        with client, connection:
            handler = PromptAnswers.__new__(PromptAnswers)
            handler.request, handler.connection = connection, connection
            handler.setup()
            assert connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            handler.rfile.close()
            handler.wfile.close()


def test_the_local_api_answers_through_it(cloud: Any) -> None:
    from local.apigateway_server import _RequestHandler

    assert issubclass(_RequestHandler, PromptAnswers)
    with requests.Session() as http:
        answers = [http.get(f"{cloud.api_url}/no-such-route") for _ in range(3)]
    assert {answer.status_code for answer in answers} == {403}
    assert all(answer.headers["Content-Length"] == str(len(answer.content)) for answer in answers)
