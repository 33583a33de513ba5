"""One local Lambda execution environment: a long-lived process that runs one function's handler.

The runner (local.functions) starts one of these per concurrent execution of a function and
keeps it warm, so a cold start (importing the handler module) happens once per process, as in
Lambda. It uses the standard library only: the function's asset directory comes first on
sys.path and must be the only place its code comes from.

Protocol: one JSON request per line on stdin, one JSON response per line on stdout. Before any
user code is imported both pipes move to private descriptors and fd 1 is pointed at stderr, so
whatever the handler prints is log output and can never corrupt the protocol. After each
invocation the worker writes a marker line to the log stream, which tells the runner that the
invocation's log output is complete.

Run it as `python -m local.worker` or `python local/worker.py`; the runner uses the file path so
that nothing from the repository has to be importable inside the function's environment.
"""

from __future__ import annotations

import decimal
import importlib
import io
import json
import logging
import os
import sys
import time
import traceback
from typing import Any

try:  # `python -m local.worker`
    from local import worker_timing
except ImportError:  # `python local/worker.py` (the runner): the script's directory comes first on sys.path
    import worker_timing  # type: ignore[no-redef]

LOG_MARKER = "\x1e"  # ASCII record separator: `<RS>request-id<RS>` ends an invocation's log output
ERROR_LINE_JOIN = "\r"  # the text-format runtime joins the lines of an error log entry like this


class _Current:
    """The invocation in progress, for the root logger's `aws_request_id` field."""

    request_id = ""


class FaultError(Exception):
    """A runtime fault (bad handler name, import error...), reported with a `Runtime.*` type."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


class CognitoIdentity:
    cognito_identity_id = None
    cognito_identity_pool_id = None


class LambdaContext:
    """The context object of the Python runtime, with the same attribute names and types."""

    def __init__(self, request_id: str, invoked_function_arn: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        # The real runtime passes the environment string through unchanged.
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = CognitoIdentity()
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: str) -> None:
        sys.stdout.write(message)

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


def make_error(message: str, error_type: str, stack_trace: list[str] | None, request_id: str = "") -> dict[str, Any]:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id,
        "stackTrace": stack_trace or [],
    }


def error_from_exception(error: BaseException, request_id: str = "") -> dict[str, Any]:
    frames = traceback.extract_tb(error.__traceback__)
    own = os.path.abspath(__file__)
    frames = traceback.StackSummary.from_list([f for f in frames if os.path.abspath(f.filename) != own])
    return make_error(str(error), type(error).__name__, traceback.format_list(frames), request_id)


def log_error(error: dict[str, Any]) -> None:
    """Logs an error the way the runtime does: one entry, `[ERROR] Type: message` plus the traceback."""
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON":
        entry = {"timestamp": _timestamp(), "level": "ERROR", **error}
        sys.stdout.write(json.dumps(entry) + "\n")
        return
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        description += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [description]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            lines.extend(element.splitlines() or [""])
    sys.stdout.write(ERROR_LINE_JOIN.join(lines) + "\n")


def _timestamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


def load_handler(handler: str) -> Any:
    """Imports `module.function` the way the Python runtime does, with its error types."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as error:
        raise FaultError("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {error}") from error
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise FaultError(
            "Runtime.BuiltInModuleConflict", f"Cannot use built-in module {module_name} as a handler module"
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise FaultError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {error}") from error
    except SyntaxError as error:
        trace = [f'  File "{error.filename}" Line {error.lineno}\n    {error.text}']
        raise FaultError(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {error}", trace
        ) from error
    try:
        return getattr(module, function_name)
    except AttributeError as error:
        raise FaultError(
            "Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'"
        ) from error


def _json_default(value: Any) -> Any:
    # The runtime's marshaller writes Decimals as plain JSON numbers (DynamoDB items come back as Decimals).
    if isinstance(value, decimal.Decimal):
        if value.is_nan():
            return float("nan")
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def marshal(result: Any) -> str:
    if isinstance(result, bytes):
        return result.decode("utf-8", errors="replace")
    try:
        return json.dumps(result, default=_json_default)
    except (TypeError, ValueError) as error:
        raise FaultError("Runtime.MarshalError", f"Unable to marshal response: {error}") from error


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _Current.request_id
        return True


def _setup_logging() -> None:
    """The runtime's root logging handler: `[LEVEL]\\t<time>\\t<request id>\\t<message>`."""
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"
        )
    )
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level and level.upper() in logging.getLevelNamesMapping():
        root.setLevel(level.upper())
    root.addHandler(handler)


def _isolate_streams() -> tuple[io.BufferedReader, io.FileIO]:
    """Moves the protocol pipes out of the handler's reach; fd 0 becomes /dev/null, fd 1 the log."""
    requests = os.fdopen(os.dup(0), "rb")
    responses = io.FileIO(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    sys.stdout = _text_stream(1)
    sys.stderr = _text_stream(2)
    return requests, responses


def _text_stream(fd: int) -> io.TextIOWrapper:
    # Unbuffered like the runtime's streams, so logs appear as they are written.
    return io.TextIOWrapper(
        io.FileIO(fd, "w", closefd=False),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
        write_through=True,
    )


def _fix_sys_path() -> None:
    """The asset directory comes first, and nothing of the runner's own package is importable."""
    own_dir = os.path.dirname(os.path.abspath(__file__))
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) not in (own_dir, os.path.dirname(own_dir))]
    if task_root not in sys.path:
        sys.path.insert(0, task_root)


def _send(responses: io.FileIO, message: dict[str, Any]) -> None:
    responses.write((json.dumps(message) + "\n").encode("utf-8"))


def _end_of_invocation(request_id: str) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(2, f"{LOG_MARKER}{request_id}{LOG_MARKER}\n".encode())


def main() -> None:
    requests, responses = _isolate_streams()
    _fix_sys_path()
    _setup_logging()
    worker_timing.install()

    started = time.monotonic()
    error: dict[str, Any] | None = None
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except FaultError as fault:
        error = make_error(fault.message, fault.error_type, fault.trace)
    except Exception as exception:
        error = error_from_exception(exception)
    if error is not None:
        log_error(error)
        _end_of_invocation("init")
        _send(responses, {"type": "init_error", "payload": json.dumps(error)})
        return
    _end_of_invocation("init")
    _send(responses, {"type": "ready", "init_ms": round((time.monotonic() - started) * 1000, 3)})

    for line in requests:
        request = json.loads(line)
        _Current.request_id = request_id = request["id"]
        if request.get("trace"):
            os.environ["_X_AMZN_TRACE_ID"] = request["trace"]
        context = LambdaContext(request_id, request["arn"], request["deadline_ms"])
        errored = False
        clock = worker_timing.Clock()
        try:
            payload = marshal(handler(request["event"], context))
        except FaultError as fault:
            errored, failure = True, make_error(fault.message, fault.error_type, fault.trace, request_id)
        except Exception as exception:
            errored, failure = True, error_from_exception(exception, request_id)
        if errored:
            log_error(failure)
            payload = json.dumps(failure)
        timing = clock.report()
        _end_of_invocation(request_id)
        _send(responses, {"type": "result", "id": request_id, "errored": errored, "payload": payload, **timing})
        _Current.request_id = ""


if __name__ == "__main__":
    main()
