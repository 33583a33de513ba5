"""moto's WSGI application served over persistent (keep-alive) HTTP/1.1 connections.

moto's `ThreadedMotoServer` runs werkzeug's development server, which answers every request with
`Connection: close` and then waits 10 ms for stray request bytes before the socket is closed. Every
AWS call the local cloud makes - the functions', the ASL interpreter's, the pollers' - then pays
for a new TCP connection and a new server thread: under load that was a fifth of the runner's
busy time, and the clients' connection pools never reused a connection. API Gateway, DynamoDB,
SQS and the other endpoints keep connections alive, and so does this server.

It keeps werkzeug's server (a thread per connection, moto's request handler and its WSGI environ)
and replaces only the request cycle: the request body is read in full before the application
runs (so the next request on the connection starts where this one ended, whatever the
application read), and the answer always carries its length.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import threading
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from local.background_server import PromptAnswers

log = logging.getLogger("local.moto_server")

# Headers that describe one connection, not the answer: this server sets its own.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
IDLE_SECONDS = 300.0  # an idle connection is closed after this long (the client reconnects)


class KeepAliveRequestHandler(PromptAnswers, MotoRequestHandler):
    """moto's request handler, answering over a connection that stays open for the next request
    (TCP_NODELAY, each answer in one write: PromptAnswers)."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        self.server.connections.discard(self.connection)  # type: ignore[attr-defined]
        super().finish()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug('"%s" %s %s', self.requestline, code, size)

    def _read_body(self, environ: dict[str, Any]) -> bytes:
        if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's DechunkedInput reads to its end
            return bytes(environ["wsgi.input"].read())
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        body = self._read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body is now a plain one of that length
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answer["status"], answer["headers"] = status, headers
            return answer.setdefault("written", []).append

        try:
            result = self.server.app(environ, start_response)
            try:
                content = b"".join([*answer.get("written", []), *result])
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception:
            log.exception("moto failed on %s %s", self.command, self.path)
            answer = {"status": "500 INTERNAL SERVER ERROR", "headers": [("Content-Type", "text/plain")]}
            content = b"Internal Server Error"
        self._answer(answer["status"], answer["headers"], content)

    def _answer(self, status: str, headers: list[tuple[str, str]], content: bytes) -> None:
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        if self.request_version == "HTTP/0.9":
            self.log_request(code)
            self.wfile.write(content)
            return
        kept = [(key, value) for key, value in headers if key.lower() not in _HOP_BY_HOP]
        bodiless = self.command == "HEAD" or code in (204, 304) or 100 <= code < 200
        if not bodiless:
            kept.append(("Content-Length", str(len(content))))
        elif self.command == "HEAD":
            given = next((v for k, v in headers if k.lower() == "content-length"), None)
            if given is not None:
                kept.append(("Content-Length", given))
        if self.close_connection:
            kept.append(("Connection", "close"))
        self.answer(code, kept, content, send_body=not bodiless, reason=reason)
        self.wfile.flush()


class MotoServer:
    """moto's server application on a port, in a background thread (ThreadedMotoServer's interface)."""

    def __init__(self, ip_address: str = "127.0.0.1", port: int = 0) -> None:
        self.app = DomainDispatcherApplication(create_backend_app)
        self._server: BaseWSGIServer = make_server(
            ip_address, port, self.app, threaded=True, request_handler=KeepAliveRequestHandler
        )
        self._server.connections = set()  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()

    def get_host_and_port(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        """Stops accepting, then closes the open connections (their threads end with them)."""
        self._server.shutdown()
        self._server.server_close()
        for connection in list(self._server.connections):  # type: ignore[attr-defined]
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join()
