"""What a request asks IAM for: the action(s), the resource ARN(s) and the condition keys.

`checks(service, operation, params, ...)` turns one AWS API request into the authorization
questions AWS asks for it: usually one, several for requests that touch several resources
(TransactWriteItems asks for PutItem/UpdateItem/DeleteItem/ConditionCheckItem per item, a
BatchWriteItem per table, a PutEvents per bus). The resource is None where it isn't derived
here; such a request is checked by its action alone.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from local.iam_policy import Request

# Signing name (the SigV4 credential scope) -> IAM service prefix, where they differ.
IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "execute-api": "execute-api"}
# Operations whose IAM action has another name.
ACTION_NAMES = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
    ("sqs", "SendMessageBatch"): "SendMessage",
    ("sqs", "DeleteMessageBatch"): "DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "ChangeMessageVisibility",
    ("sns", "PublishBatch"): "Publish",
    ("dynamodb", "TransactGetItems"): "GetItem",
}
# Actions that take no resource (IAM evaluates them against "*").
STAR_ACTIONS = {
    "cloudwatch:PutMetricData",
    "cloudwatch:GetMetricData",
    "cloudwatch:ListMetrics",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "dynamodb:ListTables",
    "dynamodb:ListStreams",
    "sqs:ListQueues",
    "sns:ListTopics",
    "states:ListStateMachines",
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
    "kms:ListKeys",
    "kms:ListAliases",
    "lambda:ListFunctions",
    "events:ListEventBuses",
    "ssm:DescribeParameters",
    "logs:DescribeLogGroups",
}

Arn = Callable[[str, str], str]  # (service, resource) -> arn in the request's region and account


def checks(
    service: str,
    operation: str,
    params: Mapping[str, Any],
    *,
    region: str,
    account: str,
    path: str = "",
    principal_arn: str = "",
    kms_key_arn: Callable[[str], str | None] | None = None,
) -> list[Request]:
    """The authorization questions for one request (`params`: its parsed JSON or query parameters)."""
    prefix = IAM_PREFIX.get(service, service)
    action = f"{prefix}:{ACTION_NAMES.get((prefix, operation), operation)}"

    def arn(kind: str, resource: str) -> str:
        return f"arn:aws:{kind}:{region}:{account}:{resource}"

    context: dict[str, list[str]] = {"aws:RequestedRegion": [region], "aws:PrincipalAccount": [account]}
    if principal_arn:
        context["aws:PrincipalArn"] = [principal_arn]
    known: tuple[str, ...] = ("aws:RequestedRegion", "aws:PrincipalAccount", "aws:PrincipalArn")

    if action in STAR_ACTIONS:
        return [Request(action, "*", context, known)]
    derive = _DERIVERS.get(prefix)
    if derive is None:
        return [Request(action, None, context, known)]
    pairs, extra, extra_known = derive(action, params, arn, path, kms_key_arn)
    context.update(extra)
    known = known + extra_known
    if not pairs:
        return [Request(action, None, context, known)]
    return [Request(act, resource, context, known) for act, resource in pairs]


Derived = tuple[list[tuple[str, str | None]], dict[str, list[str]], tuple[str, ...]]


def _dynamodb(action: str, params: Mapping[str, Any], arn: Arn, path: str, kms: Any) -> Derived:
    def table(name: str) -> str:
        return name if name.startswith("arn:") else arn("dynamodb", f"table/{name}")

    operation = action.split(":", 1)[1]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(action, table(name)) for name in params.get("RequestItems", {})], {}, ()
    if operation == "TransactWriteItems":
        kinds = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
        }
        pairs: list[tuple[str, str | None]] = []
        for item in params.get("TransactItems", []):
            for kind, body in item.items():
                if kind in kinds and isinstance(body, Mapping) and body.get("TableName"):
                    pairs.append((f"dynamodb:{kinds[kind]}", table(body["TableName"])))
        return pairs, {}, ()
    if action == "dynamodb:GetItem" and "TransactItems" in params:  # TransactGetItems
        return [(action, table(i["Get"]["TableName"])) for i in params["TransactItems"] if "Get" in i], {}, ()
    if params.get("StreamArn"):
        return [(action, str(params["StreamArn"]))], {}, ()
    name = params.get("TableName") or params.get("ResourceArn")
    if not name:
        return [], {}, ()
    resource = table(str(name))
    if params.get("IndexName") and operation in ("Query", "Scan"):
        resource = f"{resource}/index/{params['IndexName']}"
    return [(action, resource)], {}, ()


def _queue_arn(url: str, arn: Arn) -> str:
    parts = url.rstrip("/").split("/")
    return arn("sqs", parts[-1]) if len(parts) >= 2 else url


def _sqs(action: str, params: Mapping[str, Any], arn: Arn, path: str, kms: Any) -> Derived:
    if params.get("QueueUrl"):
        return [(action, _queue_arn(str(params["QueueUrl"]), arn))], {}, ()
    if params.get("QueueName"):
        return [(action, arn("sqs", str(params["QueueName"])))], {}, ()
    return [], {}, ()


def _sns(action: str, params: Mapping[str, Any], arn: Arn, path: str, kms: Any) -> Derived:
    target = params.get("TopicArn") or params.get("TargetArn") or params.get("SubscriptionArn")
    if isinstance(target, str) and target.count(":") >= 5 and action.endswith(":Unsubscribe"):
        target = target.rsplit(":", 1)[0]
    return ([(action, str(target))] if target else []), {}, ()


def _bus_arn(bus: str | None, arn: Arn) -> str:
    bus = bus or "default"
    return bus if bus.startswith("arn:") else arn("events", f"event-bus/{bus}")


def _events(action: str, params: Mapping[str, Any], arn: Arn, path: str, kms: Any) -> Derived:
    if action == "events:PutEvents":
        buses = sorted({_bus_arn(entry.get("EventBusName"), arn) for entry in params.get("Entries", [])})
        return [(action, bus) for bus in buses], {}, ()
    rule = params.get("Rule") or (params.get("Name") if "Rule" in action else None)
    if rule:
        bus = params.get("EventBusName")
        name = f"rule/{rule}" if not bus or bus == "default" else f"rule/{bus.rsplit('/', 1)[-1]}/{rule}"
        return [(action, arn("events", name))], {}, ()
    if params.get("EventBusName") or action.endswith("EventBus"):
        return [(action, _bus_arn(params.get("EventBusName") or params.get("Name"), arn))], {}, ()
    return [], {}, ()


def _states(action: str, params: Mapping[str, Any], arn: Arn, path: str, kms: Any) -> Derived:
    for key in ("stateMachineArn", "executionArn", "activityArn", "mapRunArn", "resourceArn"):
        if params.get(key):
            return [(action, str(params[key]))], {}, ()
    return [], {}, ()


def _kms(action: str, params: Mapping[str, Any], arn: Arn, path: str, key_arn: Any) -> Derived:
    key = params.get("KeyId") or params.get("DestinationKeyId")
    if not key and params.get("CiphertextBlob"):
        key = _ciphertext_key(str(params["CiphertextBlob"]))
    context: dict[str, list[str]] = {}
    encryption_context = params.get("EncryptionContext")
    if isinstance(encryption_context, Mapping):
        context["kms:EncryptionContextKeys"] = sorted(str(k) for k in encryption_context)
        for name, value in encryption_context.items():
            context[f"kms:EncryptionContext:{name}"] = [str(value)]
    known = ("kms:EncryptionContextKeys", "kms:EncryptionContext:")
    if not key:
        return [], context, known
    resolved = key_arn(str(key)) if key_arn is not None else None
    if resolved is None:
        resolved = str(key) if str(key).startswith("arn:") else arn("kms", f"key/{key}")
    return [(action, resolved)], context, known


def _ciphertext_key(blob: str) -> str | None:
    """The key id inside a ciphertext blob (moto's format: the key id leads)."""
    try:
        from moto.kms.utils import _deserialize_ciphertext_blob

        return _deserialize_ciphertext_blob(base64.b64decode(blob)).key_id
    except Exception:
        return None


def _parameter_arn(name: str, arn: Arn) -> str:
    if name.startswith("arn:"):
        return name
    return arn("ssm", f"parameter{name}" if name.startswith("/") else f"parameter/{name}")


def _ssm(action: str, params: Mapping[str, Any], arn: Arn, path: str, kms: Any) -> Derived:
    names = params.get("Names") or ([params["Name"]] if params.get("Name") else [])
    if params.get("Path"):
        names = [params["Path"]]
    return [(action, _parameter_arn(str(name).split(":", 1)[0], arn)) for name in names], {}, ()


_FUNCTION_PATH = re.compile(r"/functions/(?P<name>[^/]+)")


def _lambda(action: str, params: Mapping[str, Any], arn: Arn, path: str, kms: Any) -> Derived:
    match = _FUNCTION_PATH.search(path)
    if match is None:
        return [], {}, ()
    name = unquote(match.group("name"))
    if name.startswith("arn:"):
        return [(action, name)], {}, ()
    qualifier = params.get("Qualifier")
    if ":" in name:  # name:qualifier
        name, qualifier = name.split(":", 1)
    resource = arn("lambda", f"function:{name}")
    return [(action, f"{resource}:{qualifier}" if qualifier else resource)], {}, ()


def _logs(action: str, params: Mapping[str, Any], arn: Arn, path: str, kms: Any) -> Derived:
    group = params.get("logGroupName")
    if not group:
        return [], {}, ()
    stream = params.get("logStreamName")
    resource = f"log-group:{group}:log-stream:{stream}" if stream else f"log-group:{group}"
    return [(action, arn("logs", resource))], {}, ()


_DERIVERS: dict[str, Callable[..., Derived]] = {
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "sns": _sns,
    "events": _events,
    "states": _states,
    "kms": _kms,
    "ssm": _ssm,
    "lambda": _lambda,
    "logs": _logs,
}
