"""An HTTP server that answers in a background thread: the local API's, and any other on a port."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from typing import Self


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
