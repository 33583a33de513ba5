"""What the local API's port speaks: a request, a response, and mounts (handlers served beside the API)."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote


@dataclass
class ApiRequest:
    method: str
    path: str
    headers: dict[str, str]
    multi_headers: dict[str, list[str]]
    query: list[tuple[str, str]]
    body: bytes
    source_ip: str
    host: str
    request_id: str
    stage: str = ""
    resource_path: str = ""

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)


@dataclass
class ApiResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


# A mounted handler answers every request under its path prefix on the API's port, before (and
# instead of) the template's routes: extra pages or tools beside the API. Not part of the API:
# no authorization, validation, gateway responses or metering apply to it.
MountHandler = Callable[[ApiRequest], ApiResponse]


def static_files(directory: str | Path, prefix: str) -> MountHandler:
    """A mount serving the files of `directory` at `prefix/` (GET, HEAD); `prefix` itself
    redirects to `prefix/`, which serves index.html. Nothing outside the directory is served."""
    root = Path(directory).resolve()
    prefix = "/" + prefix.strip("/")

    def serve(request: ApiRequest) -> ApiResponse:
        if request.method not in ("GET", "HEAD"):
            return ApiResponse(405, [("Allow", "GET, HEAD"), ("Content-Type", "text/plain")], b"method not allowed")
        if request.path == prefix:
            return ApiResponse(301, [("Location", prefix + "/")], b"")
        relative = unquote(request.path[len(prefix) :]).lstrip("/") or "index.html"
        path = (root / relative).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return ApiResponse(404, [("Content-Type", "text/plain")], b"not found")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type in ("application/javascript", "application/json"):
            content_type += "; charset=utf-8"
        headers = [("Content-Type", content_type), ("Cache-Control", "no-cache"), ("X-Content-Type-Options", "nosniff")]
        return ApiResponse(200, headers, path.read_bytes())

    return serve


def header_maps(headers: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi
