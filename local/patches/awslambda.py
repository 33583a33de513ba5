"""Lambda: invocations run the function's real code in the runner's workers; `Event` ones return at once."""

from __future__ import annotations

import base64
import functools
import json
import logging
from typing import Any

from local.patches.state import local_hooks

log = logging.getLogger("local.patches")


def patch() -> None:
    from moto.awslambda.models import LambdaFunction

    original_invoke_lambda = LambdaFunction._invoke_lambda
    original_invoke = LambdaFunction.invoke

    @functools.wraps(original_invoke_lambda)
    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        hooks = local_hooks()
        if hooks is None:
            return original_invoke_lambda(self, event)
        return hooks.invoke_function(self.function_name, {} if event is None else event, self.function_arn)

    @functools.wraps(original_invoke)
    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> str | bytes:
        hooks = local_hooks()
        if hooks is None:
            return original_invoke(self, body, request_headers, response_headers)
        from local import limits

        invocation_type = request_headers.get("x-amz-invocation-type", "RequestResponse")
        try:
            limits.check_invoke_request(limits.payload_size(body), invocation_type)
        except limits.RequestEntityTooLarge as refused:
            raise refused.as_aws_error() from None
        event = json.loads(body) if body else {}
        if invocation_type == "Event":
            hooks.invoke_function_async(self.function_name, event)
            return ""
        if invocation_type == "DryRun":
            return ""
        payload, errored, logs = self._invoke_lambda(event=event)
        if errored:
            response_headers["x-amz-function-error"] = "Unhandled"
        response_headers["x-amz-executed-version"] = "$LATEST"
        if str(request_headers.get("x-amz-log-type", "")).lower() == "tail":
            tail = logs.encode("utf-8")[-4096:]
            response_headers["x-amz-log-result"] = base64.b64encode(tail).decode()
        return limits.LambdaPayload(payload.encode("utf-8"))

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]
    LambdaFunction.invoke = invoke  # type: ignore[method-assign]
