"""The local cloud's IAM check inside moto: one hook on every request of the local cloud's server.

`BaseResponse.call_action` is wrapped: a request signed with a key that local.iam registered is
turned into authorization questions (local.iam_resources), its role's policies answer them
(local.iam.Enforcer), and a refused request gets AWS's error in the service's protocol: JSON
(`__type`, `x-amzn-ErrorType`; SQS adds its query error code), REST-JSON (Lambda) or query XML
(SNS, STS, CloudWatch), with AWS's code, HTTP status and message.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from local import iam_resources
from local.iam import checking, identity_of

# (error code, HTTP status) per signing name where AWS does not answer AccessDeniedException/400.
ERRORS = {
    "sqs": ("AccessDenied", 403),
    "sns": ("AuthorizationError", 403),
    "monitoring": ("AccessDenied", 403),
    "sts": ("AccessDenied", 403),
    "s3": ("AccessDenied", 403),
    "lambda": ("AccessDeniedException", 403),
}


def _signing_name(authorization: str) -> str:
    scope = authorization.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    return scope[3] if len(scope) > 3 else ""


def _params(response: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, value in (response.querystring or {}).items():
        if isinstance(value, list) and value:
            params[key] = value[0]
    for parsed in (getattr(response, "params", None), response.body):  # parsed by moto already
        if isinstance(parsed, Mapping):
            params.update(parsed)
    body = response.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str) and body.lstrip().startswith("{"):
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            params.update(parsed)
    return params


def _kms_key_arn(account: str, region: str, key: str) -> str | None:
    try:
        from moto.kms.models import kms_backends

        backend = kms_backends[account][region]
        return str(backend.describe_key(backend.get_key_id(key) if key.startswith("alias/") else key).arn)
    except Exception:
        return None


def refusal(response: Any) -> tuple[str, int, str] | None:
    """(error code, status, message) when the request's identity may not make it, else None."""
    authorization = str(response.headers.get("Authorization", ""))
    found = identity_of(authorization)
    if found is None:
        return None
    enforcer, identity = found
    service = _signing_name(authorization)
    operation = response._get_action()
    if not operation:
        return None
    region = getattr(response, "region", None) or enforcer.region
    requests = iam_resources.checks(
        service,
        str(operation),
        _params(response),
        region=region,
        account=enforcer.account,
        path=str(getattr(response, "path", "") or ""),
        principal_arn=identity.arn,
        kms_key_arn=functools.partial(_kms_key_arn, enforcer.account, region),
    )
    refused = enforcer.authorize(identity, requests)
    if refused is None:
        return None
    request, decision = refused
    code, status = ERRORS.get(service, ("AccessDeniedException", 400))
    action = request.action.lower() if service == "sqs" else request.action
    action = "SNS:" + action.split(":", 1)[1] if service == "sns" else action
    on = f" on resource: {request.resource}" if request.resource not in (None, "*") else ""
    message = f"User: {identity.arn} is not authorized to perform: {action}{on}"
    if decision.explicit_deny:
        message += " with an explicit deny in an identity-based policy"
    else:
        message += f" because no identity-based policy allows the {action} action"
    return code, status, message


@functools.lru_cache(maxsize=64)
def _protocol(signing_name: str) -> tuple[str, str]:
    """(protocol, JSON version) of the service whose requests are signed for `signing_name`."""
    import botocore.session

    session = botocore.session.get_session()
    name = {"monitoring": "cloudwatch", "states": "stepfunctions"}.get(signing_name, signing_name)
    try:
        model = session.get_service_model(name)
    except Exception:
        return "json", "1.0"
    return str(model.protocol), str(model.metadata.get("jsonVersion", "1.0"))


def error_response(signing_name: str, code: str, status: int, message: str) -> tuple[int, dict[str, str], str]:
    """AWS's error answer in the service's protocol (JSON, REST-JSON or query XML)."""
    import uuid
    from xml.sax.saxutils import escape

    request_id = str(uuid.uuid4())
    protocol, version = _protocol(signing_name)
    headers = {"x-amzn-RequestId": request_id, "status": str(status)}
    if protocol == "json":
        headers["Content-Type"] = f"application/x-amz-json-{version}"
        headers["x-amzn-ErrorType"] = code
        if signing_name == "sqs":  # JSON with the query error code, as SQS answers (awsQueryCompatible)
            headers["x-amzn-query-error"] = f"{code};Sender"
        return status, headers, json.dumps({"__type": code, "message": message})
    if protocol == "rest-json":
        headers["Content-Type"] = "application/json"
        headers["x-amzn-ErrorType"] = code
        return status, headers, json.dumps({"Type": "User", "message": message})
    headers["Content-Type"] = "text/xml"
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return status, headers, body


def install() -> None:
    """Wraps moto's request handling once per process; only the local cloud's requests are checked."""
    from moto.core.responses import BaseResponse

    from local import patches

    if getattr(BaseResponse.call_action, "_local_iam", False):
        return
    original = BaseResponse.call_action

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        if not checking() or not patches.serving_local_request():
            return original(self)
        refused = refusal(self)
        if refused is None:
            return original(self)
        return error_response(_signing_name(str(self.headers.get("Authorization", ""))), *refused)

    call_action._local_iam = True  # type: ignore[attr-defined]
    BaseResponse.call_action = call_action  # type: ignore[method-assign]
