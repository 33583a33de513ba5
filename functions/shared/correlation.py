"""Correlation ids: one id per business request, carried by the saga, every event and log line."""

from __future__ import annotations

import re
import uuid

CORRELATION_HEADER = "X-Correlation-Id"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def correlation_from_headers(headers: dict[str, str] | None) -> str:
    """The caller's X-Correlation-Id if well formed, else a fresh one."""
    for name, value in (headers or {}).items():
        if name.lower() == CORRELATION_HEADER.lower() and value and _VALID.match(value):
            return value
    return new_correlation_id()
