"""The local API's HTTP server: requests on a port, answered by an `ApiGateway` or a mount."""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.apigateway import ApiGateway
from local.apigateway_errors import INTERNAL_ERROR
from local.apigateway_http import ApiRequest, ApiResponse, MountHandler, header_maps
from local.background_server import BackgroundServer, PromptAnswers

log = logging.getLogger("local.apigateway")

MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


class _RequestHandler(PromptAnswers):
    protocol_version = "HTTP/1.1"
    server_version = "LocalApiGateway"
    sys_version = ""
    server: _ApiServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("api %s - " + format, self.address_string(), *args)

    def _own_address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                if total > MAX_REQUEST_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            return None
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        started = time.monotonic()
        body = self._read_body()
        if body is None:
            request = ApiRequest(
                self.command,
                self.path.split("?", 1)[0],
                {},
                {},
                [],
                b"",
                self.client_address[0],
                self.headers.get("Host") or self._own_address(),
                str(uuid.uuid4()),
            )
            response = self.server.gateway.error("REQUEST_TOO_LARGE", request)
            self.close_connection = True
        elif (mount := self.server.gateway.mounted(self.path)) is not None:
            response = self._mounted(mount, body)
        else:
            try:
                response = self.server.gateway.handle(
                    self.command,
                    self.path,
                    list(self.headers.items()),
                    body,
                    source_ip=self.client_address[0],
                    host=self.headers.get("Host") or self._own_address(),
                )
            except Exception:
                log.exception("the local API failed on %s %s", self.command, self.path)
                response = ApiResponse(500, [("Content-Type", "application/json")], json.dumps(INTERNAL_ERROR).encode())
        headers = [*response.headers, ("Content-Length", str(len(response.body)))]
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.answer(response.status, headers, response.body, send_body=self.command != "HEAD")
        log.info("%s %s -> %d (%.0f ms)", self.command, self.path, response.status, (time.monotonic() - started) * 1000)

    def _mounted(self, mount: MountHandler, body: bytes) -> ApiResponse:
        split = urlsplit(self.path)
        single, multi = header_maps(list(self.headers.items()))
        request = ApiRequest(
            method=self.command,
            path=split.path,
            headers=single,
            multi_headers=multi,
            query=parse_qsl(split.query, keep_blank_values=True),
            body=body,
            source_ip=self.client_address[0],
            host=self.headers.get("Host") or self._own_address(),
            request_id=str(uuid.uuid4()),
        )
        try:
            return mount(request)
        except Exception:
            log.exception("the handler mounted for %s failed", self.path)
            return ApiResponse(500, [("Content-Type", "application/json")], json.dumps(INTERNAL_ERROR).encode())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class _ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], gateway: ApiGateway) -> None:
        self.gateway = gateway
        super().__init__(address, _RequestHandler)


class LocalApiServer(BackgroundServer):
    """Serves an `ApiGateway` on 127.0.0.1 in a background thread."""

    def __init__(self, gateway: ApiGateway, host: str = "127.0.0.1", port: int = 0) -> None:
        self.gateway = gateway
        super().__init__(_ApiServer((host, port), gateway), "local-api")

    def stop(self) -> None:
        super().stop()
        self.gateway.close()
