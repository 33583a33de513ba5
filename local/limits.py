"""AWS's payload size limits, refused locally with the error AWS answers with.

Every check measures what is already serialized (a request body, an invocation's JSON, a message
body), so it costs a length, never a parse. The numbers are AWS's as of the 1 MB serverless
payload launches (SQS in August 2025, asynchronous Lambda in October 2025, EventBridge in
January 2026); Step Functions, DynamoDB and synchronous Lambda kept theirs.

- Lambda: a synchronous invocation's request over 6,291,456 bytes is refused
  (`RequestEntityTooLargeException`, 413, "Request must be smaller than 6291456 bytes for the
  InvokeFunction operation"); an asynchronous one over 1,048,576 bytes too ("N byte payload is
  too large for the Event invocation type (limit 1048576 bytes)"). A response over 6,291,556
  bytes becomes the `Function.ResponseSizeTooLarge` function error. The checks sit where every
  invocation passes: `lambda.invoke` (local.patches), the function pool (the API, the pollers,
  `cloud.invoke`) and the cloud's invocation hook (responses).
- SQS: a message (body plus attributes, in UTF-8 bytes) over the queue's MaximumMessageSize
  (1 MiB by default) is refused with `InvalidParameterValue`, and a batch over 1 MiB in all
  with `BatchRequestTooLong`; moto alone counts characters and ignores attributes.
- EventBridge: PutEvents whose entries (Time 14 bytes, Source, DetailType, Detail, Resources,
  UTF-8) add up to over 1,048,576 bytes is refused as a whole: `ValidationException`, "Total
  size of the entries in the request is over the limit." AWS fails no single entry for size.
- Step Functions: StartExecution / StartSyncExecution input over 262,144 bytes is refused
  (`ValidationException`); a state's output over 256 KiB fails the execution with
  `States.DataLimitExceeded` (moto's interpreter checks that), and, as on AWS, `States.ALL`
  in a Retry or Catch does not match `States.DataLimitExceeded`.
- DynamoDB: moto refuses an item over 400 KB (`ValidationException`, "Item size has exceeded
  the maximum allowed size") by itself.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from typing import Any

from local import patches

LAMBDA_SYNC_REQUEST_BYTES = 6 * 1024 * 1024  # 6,291,456
LAMBDA_SYNC_RESPONSE_BYTES = 6 * 1024 * 1024 + 100  # 6,291,556: what Lambda's error message names
LAMBDA_ASYNC_REQUEST_BYTES = 1024 * 1024  # 256 KB until October 2025
SQS_BATCH_BYTES = 1024 * 1024  # a queue's own MaximumMessageSize bounds each message
EVENTBRIDGE_REQUEST_BYTES = 1024 * 1024  # 256 KB until January 2026
STATES_INPUT_BYTES = 256 * 1024  # StartExecution's `input`


class RequestEntityTooLarge(Exception):
    """An invocation Lambda refuses before it runs (the Invoke API's 413)."""

    code = "RequestEntityTooLargeException"
    status = 413

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def as_aws_error(self) -> Exception:
        from moto.core.exceptions import AWSError

        return AWSError(self.message, exception_type=self.code, status=self.status)


def _utf8_size(text: str) -> int:
    """UTF-8 length; a pure-ASCII string (every json.dumps output) costs only len()."""
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def payload_size(body: str | bytes | None) -> int:
    """A request body's size in bytes (moto hands some bodies over decoded)."""
    if body is None:
        return 0
    return _utf8_size(body) if isinstance(body, str) else len(body)


def check_invoke_request(size: int, invocation_type: str = "RequestResponse") -> None:
    """Raises RequestEntityTooLarge when Lambda would refuse a request body of `size` bytes."""
    if invocation_type == "Event":
        if size > LAMBDA_ASYNC_REQUEST_BYTES:
            raise RequestEntityTooLarge(
                f"{size} byte payload is too large for the Event invocation type "
                f"(limit {LAMBDA_ASYNC_REQUEST_BYTES} bytes)"
            )
    elif size > LAMBDA_SYNC_REQUEST_BYTES:
        raise RequestEntityTooLarge(
            f"Request must be smaller than {LAMBDA_SYNC_REQUEST_BYTES} bytes for the InvokeFunction operation"
        )


def check_event_json(event_json: str, invocation_type: str = "RequestResponse") -> None:
    """The same for an event the runner serialized itself (ASCII JSON, non-ASCII escaped).

    Escapes make the text longer than the UTF-8 AWS would have received, so only a text over the
    limit is measured again, exactly.
    """
    limit = LAMBDA_ASYNC_REQUEST_BYTES if invocation_type == "Event" else LAMBDA_SYNC_REQUEST_BYTES
    if len(event_json) <= limit:
        return
    size = len(event_json)
    if "\\u" in event_json:
        size = len(json.dumps(json.loads(event_json), ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    check_invoke_request(size, invocation_type)


def response_too_large(payload: str) -> str | None:
    """Lambda's error payload when a synchronous response is over the limit, else None."""
    if _utf8_size(payload) <= LAMBDA_SYNC_RESPONSE_BYTES:
        return None
    return json.dumps(
        {
            "errorMessage": (
                f"Response payload size exceeded maximum allowed payload size ({LAMBDA_SYNC_RESPONSE_BYTES} bytes)."
            ),
            "errorType": "Function.ResponseSizeTooLarge",
        }
    )


class LambdaPayload(bytes):
    """A response body that moto's own 6,000,000-byte `sys.getsizeof` check lets through.

    The exact check (`response_too_large`) already ran; moto's approximate one would refuse
    responses between its number and Lambda's.
    """

    def __sizeof__(self) -> int:
        return 0


# -- the moto patches ------------------------------------------------------------------------


def _local_request() -> bool:
    return patches.serving_local_request()


def install() -> None:
    """Installs the SQS, EventBridge and Step Functions checks (Lambda's are in local.patches)."""
    _patch_sqs()
    _patch_events()
    _patch_stepfunctions()


def sqs_message_size(body: str, attributes: dict[str, Any] | None) -> int:
    """A message's size as SQS counts it: the body and each attribute's name, type and value."""
    size = _utf8_size(body or "")
    for name, attribute in (attributes or {}).items():
        size += _utf8_size(name) + _utf8_size(str(attribute.get("DataType", "")))
        if "StringValue" in attribute:
            size += _utf8_size(str(attribute["StringValue"]))
        elif "BinaryValue" in attribute:
            value = attribute["BinaryValue"]
            if isinstance(value, str):
                try:
                    value = base64.b64decode(value)
                except (binascii.Error, ValueError):
                    value = value.encode("utf-8")
            size += len(value)
    return size


def _patch_sqs() -> None:
    from moto.sqs.exceptions import BatchRequestTooLong, InvalidParameterValue
    from moto.sqs.models import SQSBackend

    original_send = SQSBackend.send_message
    original_batch = SQSBackend.send_message_batch

    @functools.wraps(original_send)
    def send_message(self: Any, queue_name: str, message_body: str, *args: Any, **kwargs: Any) -> Any:
        if _local_request():
            limit = int(self.get_queue(queue_name).maximum_message_size)
            attributes = kwargs.get("message_attributes") or (args[0] if args else None)
            if sqs_message_size(message_body, attributes) > limit:
                raise InvalidParameterValue(
                    f"One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
                )
        return original_send(self, queue_name, message_body, *args, **kwargs)

    @functools.wraps(original_batch)
    def send_message_batch(self: Any, queue_name: str, entries: dict[str, dict[str, Any]]) -> Any:
        if _local_request():
            total = sum(
                sqs_message_size(entry.get("MessageBody", ""), entry.get("MessageAttributes"))
                for entry in entries.values()
            )
            if total > SQS_BATCH_BYTES:
                raise BatchRequestTooLong(total)
        return original_batch(self, queue_name, entries)

    SQSBackend.send_message = send_message  # type: ignore[method-assign]
    SQSBackend.send_message_batch = send_message_batch  # type: ignore[method-assign]


def put_events_size(entries: list[dict[str, Any]]) -> int:
    """PutEvents' request size as EventBridge computes it (eb-putevents.html#eb-putevent-size)."""
    size = 0
    for entry in entries:
        if entry.get("Time") is not None:
            size += 14
        for key in ("Source", "DetailType", "Detail"):
            value = entry.get(key)
            if value:
                size += _utf8_size(str(value))
        for resource in entry.get("Resources") or ():
            if resource:
                size += _utf8_size(str(resource))
    return size


def _patch_events() -> None:
    from moto.events.exceptions import ValidationException
    from moto.events.models import EventsBackend

    original = EventsBackend.put_events

    @functools.wraps(original)
    def put_events(self: Any, events: list[dict[str, Any]]) -> Any:
        if _local_request() and put_events_size(events) > EVENTBRIDGE_REQUEST_BYTES:
            raise ValidationException("Total size of the entries in the request is over the limit.")
        return original(self, events)

    EventsBackend.put_events = put_events  # type: ignore[method-assign]


def _check_execution_input(response: Any) -> None:
    from moto.core.exceptions import AWSError

    execution_input = response._get_param("input")
    if isinstance(execution_input, str) and _utf8_size(execution_input) > STATES_INPUT_BYTES:
        raise AWSError(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: "
            f"Member must have length less than or equal to {STATES_INPUT_BYTES}",
            exception_type="ValidationException",
        )


def _patch_stepfunctions() -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.responses import StepFunctionResponse

    for name in ("start_execution", "start_sync_execution"):
        original = getattr(StepFunctionResponse, name)

        def checked(self: Any, _original: Any = original) -> Any:
            if _local_request():
                _check_execution_input(self)
            return _original(self)

        setattr(StepFunctionResponse, name, functools.wraps(original)(checked))

    # "States.ALL ... can't catch the States.DataLimitExceeded terminal error" (AWS's error
    # handling guide); moto's interpreter lets it catch and retry it.
    data_limit = StatesErrorName(typ=StatesErrorNameType.StatesStatesDataLimitExceeded)
    match_all = StatesErrorName(typ=StatesErrorNameType.StatesALL)
    original_eval = ErrorEqualsDecl._eval_body

    @functools.wraps(original_eval)
    def _eval_body(self: Any, env: Any) -> None:
        if match_all in self.error_names and env.stack and env.stack[-1] == data_limit:
            env.stack.pop()
            env.stack.append(False)
            return
        original_eval(self, env)

    ErrorEqualsDecl._eval_body = _eval_body  # type: ignore[method-assign]
