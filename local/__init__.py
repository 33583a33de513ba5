"""The local cloud: runs a synthesized CDK stack on moto, with real Lambda code and no AWS account.

`LocalCloud` is imported lazily so that `python -m local.worker` (a function's execution
environment) does not load the runner, moto and boto3 before the function's own code.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LocalCloud"]


def __getattr__(name: str) -> Any:
    if name == "LocalCloud":
        from local.cloud import LocalCloud

        return LocalCloud
    raise AttributeError(name)
