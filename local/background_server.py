"""An HTTP server that answers in a background thread: the local API's, and any other on a port."""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class PromptAnswers(BaseHTTPRequestHandler):
    """A request handler whose answers leave at once.

    http.server writes the status line and headers, then the body, as two segments, and leaves
    Nagle's algorithm on: the body waited for the client to acknowledge the headers, and a
    client on a kept-alive connection acknowledges late (delayed ACK). Every answer of the local
    API took 40 ms more than its work (52 ms against 7 ms for a 404). Here the connection has
    TCP_NODELAY, and an answer goes out in one write.
    """

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def answer(
        self,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
        send_body: bool = True,
        reason: str | None = None,
    ) -> None:
        """send_response (with `reason`, else the status's own), send_header for each of `headers`,
        end_headers and the body, in one write."""
        self.log_request(status)
        if reason is None:
            reason = self.responses[status][0] if status in self.responses else ""
        lines = [
            f"{self.protocol_version} {status} {reason}",
            f"Server: {self.version_string()}",
            f"Date: {self.date_time_string()}",
        ]
        for name, value in headers:
            lines.append(f"{name}: {value}")
            if name.lower() == "connection":  # as send_header reads it
                if value.lower() == "close":
                    self.close_connection = True
                elif value.lower() == "keep-alive":
                    self.close_connection = False
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")
        self.wfile.write(head + body if send_body else head)


class BackgroundServer:
    """`server` served by a daemon thread (named `name`) from `start()` until `stop()`."""

    def __init__(self, server: ThreadingHTTPServer, name: str) -> None:
        self._server = server
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=name, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
