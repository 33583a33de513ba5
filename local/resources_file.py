"""`<work dir>/resources.json`: where a running local cloud is and what its resources are called.

{"stack", "endpoint_url", "region", "api_url", "resources": {logical id: physical id (what `Ref` gives)}}.
The runner writes it once the cloud is up and removes it when the cloud stops; tools that work
on a running cloud read it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def write_resources_file(
    path: str | Path,
    physical_ids: Mapping[str, Any],
    *,
    stack: str,
    endpoint_url: str,
    region: str,
    api_url: str | None = None,
) -> Path:
    """The local runner's resources file: where its cloud is, and logical id -> physical id.

    Written atomically: a reader never sees half of it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "stack": stack,
        "endpoint_url": endpoint_url,
        "region": region,
        "api_url": api_url,
        "resources": {str(k): str(v) for k, v in sorted(physical_ids.items()) if v is not None},
    }
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps(document, indent=2) + "\n")
    partial.replace(path)
    return path


def write_resources(cloud: Any, path: Path) -> Path:
    """The cloud's endpoint, region, stack and physical ids, in `path`."""
    return write_resources_file(
        path,
        {logical_id: resource.physical_id for logical_id, resource in cloud.resources.items()},
        stack=cloud.stack.stack_name,
        endpoint_url=cloud.endpoint_url,
        region=cloud.region,
        api_url=cloud.api_url if cloud.apis else None,
    )


def remove_resources(path: Path, endpoint_url: str) -> None:
    """Removes the file when it is still this cloud's (another runner may have replaced it)."""
    try:
        if json.loads(path.read_text()).get("endpoint_url") == endpoint_url:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass
