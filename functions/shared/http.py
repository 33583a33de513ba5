"""What both REST APIs refuse before routing: bodies that are not JSON.

Powertools' validation would parse an `application/x-www-form-urlencoded` body as a form
(curl's default), turning a JSON document into one oddly named field and quoting it back in
the error. orderflow's APIs speak JSON only, so such a request gets a clear 415 instead.
"""

from __future__ import annotations

from typing import Any

from shared import http_errors

JSON_TYPES = ("application/json",)


def _content_type(event: dict[str, Any]) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "content-type" and value:
            return str(value).split(";", 1)[0].strip().lower()
    return None


def unsupported_media_type(event: dict[str, Any]) -> dict[str, Any] | None:
    """A 415 proxy response when the request has a body that is not declared as JSON, else None."""
    if not event.get("body"):
        return None
    content_type = _content_type(event)
    if content_type is None or content_type in JSON_TYPES or content_type.endswith("+json"):
        return None
    return http_errors.unsupported_media_type(content_type).proxy_response()
