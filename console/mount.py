"""The console on the local cloud's API port: `python -m local serve --mount /_console=console.mount:mount`.

The page and its files come from console/static/; `graph.json` is built from the running stack's
template when first asked for. The page calls the API on the same origin.
"""

from __future__ import annotations

import json
from typing import Any

from console import STATIC, graph
from local.apigateway_http import ApiRequest, ApiResponse, MountHandler, static_files


def mount(cloud: Any, prefix: str) -> MountHandler:
    """The handler serving the console at `prefix` for a running `local.cloud.LocalCloud`."""
    files = static_files(STATIC, prefix)
    built: list[bytes] = []

    def serve(request: ApiRequest) -> ApiResponse:
        if request.path == f"{prefix}/graph.json" and request.method in ("GET", "HEAD"):
            if not built:
                stack = cloud.stack
                document = graph.build(stack.template, stack.construct_paths, stack=stack.stack_name)
                built.append(json.dumps(document).encode())
            return ApiResponse(200, [("Content-Type", "application/json"), ("Cache-Control", "no-cache")], built[0])
        return files(request)

    return serve
