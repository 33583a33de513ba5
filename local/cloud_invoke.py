"""One invocation on a local cloud, as Lambda answers it: only Python functions with a code asset run,
a synchronous response is held to Lambda's 6 MB, and the meter (if any) counts it."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from local import limits
from local import meter as metering
from local.functions import FunctionPool, InvocationResult

log = logging.getLogger("local.cloud")


def invoke_pool(
    pool: FunctionPool,
    event: Any,
    invoked_arn: str | None = None,
    *,
    synchronous: bool = True,
    meter: metering.Meter | None = None,
) -> InvocationResult:
    """Invokes the pool's function (`synchronous`: its response is checked for Lambda's limit)."""
    spec = pool.spec
    if not spec.runtime.startswith("python") or spec.code_dir is None:
        reason = "has no local code asset" if spec.code_dir is None else f"runs on {spec.runtime}"
        payload = {
            "errorType": "Runtime.InvalidEntrypoint",
            "errorMessage": f"function {spec.name} {reason}; only Python functions with code assets run locally",
        }
        return InvocationResult(json.dumps(payload), True, str(uuid.uuid4()))
    result = pool.invoke(event, invoked_arn=invoked_arn)
    if synchronous:  # Lambda's 6 MB response limit (an asynchronous caller gets no response)
        too_large = limits.response_too_large(result.payload)
        if too_large is not None:
            log.info("%s returned %d characters: Function.ResponseSizeTooLarge", spec.name, len(result.payload))
            result.payload, result.errored = too_large, True
    if meter is not None:
        meter.lambda_invocation(spec, event, result)
    return result


def function_not_found(function_name: str) -> InvocationResult:
    """Lambda's answer for a function that does not exist."""
    payload = {"errorType": "ResourceNotFoundException", "errorMessage": f"Function not found: {function_name}"}
    return InvocationResult(json.dumps(payload), True, str(uuid.uuid4()))
