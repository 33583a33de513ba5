"""The console in front of any orderflow API: `python -m ops console`.

Serves the page at /_console/ (and its `graph.json`, built from the stack's template) on
127.0.0.1, and forwards every other request to the API — SigV4-signed with the caller's AWS
credentials when the API is deployed (every route requires AWS_IAM), as `python -m ops api`
signs. The browser never holds a credential: it talks to this server on the same origin.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from botocore.credentials import Credentials

from console import PREFIX, STATIC
from local.apigateway_http import ApiRequest, static_files
from local.background_server import BackgroundServer, PromptAnswers
from ops import api

FORWARDED_HEADERS = ("Content-Type", "Idempotency-Key", "If-Match", "If-None-Match", "X-Correlation-Id")
ANSWER_HEADERS = ("Content-Type", "ETag", "Location", "Retry-After", "Idempotent-Replayed")


class ConsoleServer(BackgroundServer):
    """The page, its graph, and a forwarding (signing) proxy to `api_url`."""

    def __init__(
        self,
        api_url: str,
        graph: dict[str, Any],
        *,
        credentials: Callable[[], Credentials] | None = None,
        region: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.graph_body = json.dumps(graph).encode()
        self.credentials = credentials
        self.region = region
        self.files = static_files(STATIC, PREFIX)
        super().__init__(ThreadingHTTPServer((host, port), self._handler()), "console")

    @property
    def url(self) -> str:
        return f"{super().url}{PREFIX}/"

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def forward(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> api.ApiAnswer:
        """One API call, signed when the server was given credentials (fresh for each call)."""
        given = {name.lower(): value for name, value in headers.items()}
        sent = {name: given[name.lower()] for name in FORWARDED_HEADERS if name.lower() in given}
        credentials = self.credentials() if self.credentials else None
        return api.call(method, api.join(self.api_url, path), body, sent, credentials=credentials, region=self.region)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        console = self

        class Handler(PromptAnswers):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.answer(status, [*headers, ("Content-Length", str(len(body)))], body, self.command != "HEAD")

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                path = urlsplit(self.path).path
                if path == "/":
                    self._answer(302, [("Location", f"{PREFIX}/")], b"")
                elif path == f"{PREFIX}/graph.json":
                    self._answer(200, [("Content-Type", "application/json")], console.graph_body)
                elif path == PREFIX or path.startswith(f"{PREFIX}/"):
                    request = ApiRequest(self.command, path, {}, {}, [], b"", self.client_address[0], "", "")
                    response = console.files(request)
                    self._answer(response.status, response.headers, response.body)
                else:
                    try:
                        answer = console.forward(self.command, self.path, body, dict(self.headers.items()))
                    except OSError as error:
                        message = json.dumps({"message": f"the API did not answer: {error}"}).encode()
                        self._answer(502, [("Content-Type", "application/json")], message)
                        return
                    raw = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
                    answered = {name.lower(): value for name, value in answer.headers.items()}
                    kept = [(name, answered[name.lower()]) for name in ANSWER_HEADERS if name.lower() in answered]
                    self._answer(answer.status, kept, raw.encode() if answer.body is not None else b"")

            do_GET = do_POST = do_PUT = do_HEAD = _handle

        return Handler
