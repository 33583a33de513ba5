"""Template values as the AWS APIs want them, shared by the provisioners."""

from __future__ import annotations

import json
from typing import Any


def text_map(values: dict[str, Any]) -> dict[str, str]:
    return {key: text(value) for key, value in values.items()}


def text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def uuid_for(*parts: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, "local-cloud:" + ":".join(parts)))
