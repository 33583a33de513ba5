"""What moto 5.2.5 lacks or gets wrong for this system, patched in one place.

Each patch is installed once per process (idempotent) and, where it needs the running local
cloud, asks the active `RuntimeHooks`; with none active moto behaves as it does unpatched.

- DynamoDB isolates requests as the service does (local.dynamodb_locks, installed by
  local.dynamodb_requests): each item has its own lock, so single-item operations are atomic
  per item (moto alone loses updates on conditional writes) while different items proceed in
  parallel. TransactWriteItems / TransactGetItems take all their items without waiting, and an
  item held by another transaction or write cancels them (`TransactionCanceledException`, reason
  `TransactionConflict`); a single-item write to an item held by a transaction gets
  `TransactionConflictException`. Query and Scan have their table to themselves while they run.
  The locks emulate the service; service code never takes them.
- TransactWriteItems checks every condition before writing and never swaps tables (see
  local.dynamodb_transactions: moto's rollback orphans the table's stream shard).
- Lambda invocations run the function's real code in worker processes (local.functions)
  instead of Docker; asynchronous invokes (`InvocationType=Event`) return at once.
- Step Functions gets `StartSyncExecution`, and executions are tracked so the runner knows
  when none is running.
- DynamoDB stream writes wake the runner's stream pollers instead of being polled blindly, and
  a message made visible again wakes SQS long polls (moto only wakes them for new messages).
- AWS's payload size limits are enforced by local.limits (installed from here; Lambda's request
  check sits in the Lambda patch below).
- EventBridge: rule targets moto cannot deliver (Lambda, Step Functions, SNS) go to the runner;
  a DISABLED rule delivers nothing; a schedule-only rule never matches events; events carry
  their `account` field as AWS's do.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime
import functools
import json
import logging
import threading
import uuid
from typing import Any, Protocol

from local.dynamodb_locks import LOCKS

log = logging.getLogger(__name__)

STREAM_ACTIVITY = threading.Condition()
EXECUTIONS = threading.Condition()
SYNC_EXECUTION_LIMIT_SECONDS = 300  # Express workflows run at most five minutes

RUNNER_TARGET_SERVICES = ("lambda", "states", "sns")


class _State:
    """Process-wide patch state (the patched classes are process-wide too)."""

    installed = False
    hooks: RuntimeHooks | None = None
    running_executions = 0
    server_app: Any = None  # the local cloud's moto WSGI application
    request = threading.local()  # .local: this thread serves a request of the local cloud's server


def serve_requests_of(app: Any) -> None:
    """Only requests to this moto server (the local cloud's) get the local cloud's behaviour.

    Other moto users in the same process - `mock_aws()` in unit tests, another
    ThreadedMotoServer - keep moto's own behaviour: no state machine execution, no runner
    Lambda, moto's own EventBridge delivery.
    """
    _State.server_app = app


def serving_local_request() -> bool:
    """Whether the current thread serves a request to the local cloud's server."""
    return bool(getattr(_State.request, "local", False))


def _local_hooks() -> RuntimeHooks | None:
    """The hooks, when the current thread serves a request to the local cloud's server."""
    return _State.hooks if getattr(_State.request, "local", False) else None


_install_lock = threading.Lock()


class RuntimeHooks(Protocol):
    """What the patches need from the running local cloud."""

    def invoke_function(self, function_name: str, event: Any, invoked_arn: str) -> tuple[str, bool, str]:
        """Runs one synchronous invocation: (payload JSON, errored, log text)."""
        ...

    def invoke_function_async(self, function_name: str, event: Any) -> None:
        """Queues an asynchronous (`Event`) invocation."""
        ...

    def deliver_rule_target(self, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
        """Delivers a matched event to a Lambda, Step Functions or SNS target."""
        ...

    def notify_activity(self) -> None:
        """Something moved (an execution started or ended): wake whoever waits for idleness."""
        ...


def activate(hooks: RuntimeHooks | None) -> None:
    install()
    _State.hooks = hooks


def _notify_activity() -> None:
    hooks = _State.hooks
    if hooks is not None:
        hooks.notify_activity()


def running_executions() -> int:
    return _State.running_executions


def install() -> None:
    with _install_lock:
        if _State.installed:
            return
        _patch_dynamodb()
        _patch_streams()
        _patch_lambda()
        _patch_stepfunctions()
        _patch_events()
        _patch_sqs()
        _patch_performance()
        from local import events_replay, iam, limits

        events_replay.install()
        limits.install()
        iam.install()
        _State.installed = True


# -- DynamoDB --------------------------------------------------------------------------------


def _patch_dynamodb() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    from local import dynamodb_requests
    from local.dynamodb_transactions import transact_write_items

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    dynamodb_requests.install()


def _patch_streams() -> None:
    from moto.dynamodb.models.table import StreamShard

    original_add = StreamShard.add

    @functools.wraps(original_add)
    def add(self: Any, old: Any, new: Any) -> None:
        # moto numbers a record by the shard's length: concurrent writers need the shard's lock.
        with LOCKS.shard(self):
            original_add(self, old, new)
        with STREAM_ACTIVITY:
            STREAM_ACTIVITY.notify_all()

    StreamShard.add = add  # type: ignore[method-assign]


# -- Speed -----------------------------------------------------------------------------------


def _patch_performance() -> None:
    """Caches what moto rebuilds on every call although it never changes.

    Profiling the orchestrated path showed over a third of the runner's CPU in two places:
    jsonpath_ng builds a fresh LALR parser (reading its yacc tables) for every JSONPath moto
    evaluates - 8 per EventBridge delivery to SQS, several per state - and the ASL interpreter
    parses the state machine definition with ANTLR at the start of every execution. Compiled
    JSONPaths and the parsed program are immutable (executions keep their state in their own
    environment), so both are cached.
    """
    import jsonpath_ng
    import jsonpath_ng.ext
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    cached_ext = functools.lru_cache(maxsize=4096)(jsonpath_ng.ext.parse)
    cached_plain = functools.lru_cache(maxsize=4096)(jsonpath_ng.parse)
    jsonpath_ng.ext.parse = cached_ext
    jsonpath_ng.parse = cached_plain
    json_path.parse = cached_ext
    result_path.parse = cached_plain

    programs: dict[str, Any] = {}
    programs_lock = threading.Lock()
    original_entrypoint = ExecutionWorker._get_evaluation_entrypoint

    @functools.wraps(original_entrypoint)
    def _get_evaluation_entrypoint(self: Any) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        with programs_lock:
            program = programs.get(definition)
        if program is None:
            program = original_entrypoint(self)
            with programs_lock:
                programs[definition] = program
        return program

    ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint  # type: ignore[method-assign]

    _cache_state_machine_clients()

    # moto's server finds the backend of every request under one global lock, listing its own
    # package directory from disk and trying hundreds of URL regexes each time.
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    original_backend_for_host = DomainDispatcherApplication.get_backend_for_host
    hosts: dict[str | None, Any] = {}

    @functools.wraps(original_backend_for_host)
    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in hosts:
            hosts[host] = original_backend_for_host(self, host)
        return hosts[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]

    original_call = DomainDispatcherApplication.__call__

    @functools.wraps(original_call)
    def __call__(self: Any, environ: Any, start_response: Any) -> Any:
        if self is not _State.server_app:
            return original_call(self, environ, start_response)
        _State.request.local = True
        try:
            return original_call(self, environ, start_response)
        finally:
            _State.request.local = False

    DomainDispatcherApplication.__call__ = __call__  # type: ignore[method-assign]

    # Every request lists its response class's methods with inspect.getmembers; classes do not
    # change after install() (which added StartSyncExecution), so the answer is cached.
    from moto.core import responses

    responses.method_names_from_class = functools.lru_cache(maxsize=None)(responses.method_names_from_class)


_ASL_CLIENT_MODULES = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
)


def _cache_state_machine_clients() -> None:
    """The ASL interpreter creates a new boto3 client for every task it runs.

    Creating one costs more CPU than the call it makes (a quarter of the runner's CPU on a
    workflow-heavy path); clients are thread-safe, so one per service, region, port and role is kept. A task's
    client signs with its state machine's role (local.iam), so that the role is authorized.
    """
    import importlib

    from moto.core.models import botocore_stubber
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = boto_client.boto_client_for
    clients: dict[tuple[str, str, str, str], Any] = {}
    lock = threading.Lock()

    @functools.wraps(original)
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if botocore_stubber.enabled:  # decorator mode: no server to talk to
            return original(region, service, state_credentials)
        from moto.settings import moto_server_port

        role = str(getattr(state_credentials, "role_arn", None) or "")
        key = (region, service, moto_server_port(), role)
        with lock:
            client = clients.get(key)
            if client is None:
                client = clients[key] = original(region, service, state_credentials)
                if role:
                    from local import iam

                    iam.sign_as(client, role, iam.STATES_SESSION)
                if service in ("dynamodb", "sqs"):
                    from local import meter

                    client.meta.events.register("before-send", meter.add_execution_trace)
        return client

    boto_client.boto_client_for = boto_client_for
    for name in _ASL_CLIENT_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "boto_client_for"):
            module.boto_client_for = boto_client_for  # type: ignore[attr-defined]


# -- SQS -------------------------------------------------------------------------------------


def _patch_sqs() -> None:
    from moto.sqs.models import SQSBackend

    original = SQSBackend.change_message_visibility

    @functools.wraps(original)
    def change_message_visibility(self: Any, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
        original(self, queue_name, receipt_handle, visibility_timeout)
        # moto's long poll only wakes for new messages; one made visible again must wake it too.
        condition = getattr(self.get_queue(queue_name), "_messages_lock", None)
        if condition is not None:
            with condition:
                condition.notify_all()

    SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]


# -- Lambda ----------------------------------------------------------------------------------


def _patch_lambda() -> None:
    from moto.awslambda.models import LambdaFunction

    original_invoke_lambda = LambdaFunction._invoke_lambda
    original_invoke = LambdaFunction.invoke

    @functools.wraps(original_invoke_lambda)
    def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
        hooks = _local_hooks()
        if hooks is None:
            return original_invoke_lambda(self, event)
        return hooks.invoke_function(self.function_name, {} if event is None else event, self.function_arn)

    @functools.wraps(original_invoke)
    def invoke(self: Any, body: Any, request_headers: Any, response_headers: Any) -> str | bytes:
        hooks = _local_hooks()
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


# -- Step Functions --------------------------------------------------------------------------


def _patch_stepfunctions() -> None:
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.responses import StepFunctionResponse

    original_start = Execution.start
    original_logic = ExecutionWorker._execution_logic

    def _finished() -> None:
        with EXECUTIONS:
            _State.running_executions -= 1
            EXECUTIONS.notify_all()
        _notify_activity()

    from moto.stepfunctions.parser.utils import TMP_THREADS

    @functools.wraps(original_start)
    def start(self: Any) -> None:
        with EXECUTIONS:
            _State.running_executions += 1
            if len(TMP_THREADS) > 256:  # moto keeps every execution thread it ever started
                TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
        _notify_activity()
        try:
            original_start(self)
        except BaseException:
            _finished()
            raise

    @functools.wraps(original_logic)
    def _execution_logic(self: Any) -> None:
        from local import meter

        try:
            # its DynamoDB and SQS tasks' requests name this execution (the meter attributes them)
            with meter.execution_trace(getattr(self._execution_communication, "execution", None)):
                original_logic(self)
        except Exception as error:
            # moto leaves such an execution RUNNING forever; fail it as AWS would.
            log.exception("state machine execution crashed in the interpreter")
            execution = getattr(self._execution_communication, "execution", None)
            if execution is not None:
                from moto.stepfunctions.parser.api import ExecutionStatus

                execution.exec_status = ExecutionStatus.FAILED
                execution.error = "States.Runtime"
                execution.cause = f"{type(error).__name__}: {error}"
                execution.stop_date = datetime.datetime.now(tz=datetime.UTC)
        finally:
            execution = getattr(self._execution_communication, "execution", None)
            if execution is not None:
                from local import meter

                meter.record_execution(execution)
            _finished()

    Execution.start = start  # type: ignore[method-assign]
    ExecutionWorker._execution_logic = _execution_logic  # type: ignore[method-assign]
    StepFunctionResponse.start_sync_execution = _start_sync_execution  # type: ignore[attr-defined]

    # State machines execute for the local cloud's requests only (moto's global switch,
    # POST /moto-api/config, would also turn it on for every mock_aws() user in the process).
    from moto.stepfunctions import responses as sfn_responses
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    original_get_backend = sfn_responses.get_backend

    @functools.wraps(original_get_backend)
    def get_backend(account: str, region: str) -> Any:
        if getattr(_State.request, "local", False):
            return stepfunctions_parser_backends[account][region]
        return original_get_backend(account, region)

    sfn_responses.get_backend = get_backend


def _start_sync_execution(self: Any) -> Any:
    """`StartSyncExecution` for Express state machines: run to the end, answer with the result."""
    from moto.core.exceptions import AWSError
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.api import ExecutionStatus

    arn = self._get_param("stateMachineArn")
    name = self._get_param("name") or str(uuid.uuid4())
    execution_input = self._get_param("input", if_none="{}")
    backend = self.stepfunction_backend
    state_machine = backend.describe_state_machine(arn)
    if getattr(state_machine, "type", "STANDARD") != "EXPRESS":
        raise AWSError(
            "This operation is not supported by this type of state machine",
            exception_type="StateMachineTypeNotSupported",
        )
    execution = backend.start_execution(arn, name, execution_input)

    def finished() -> bool:
        return execution.exec_status != ExecutionStatus.RUNNING

    with EXECUTIONS:
        EXECUTIONS.wait_for(finished, timeout=SYNC_EXECUTION_LIMIT_SECONDS)
    status = execution.exec_status
    if status == ExecutionStatus.SUCCEEDED:
        sync_status = "SUCCEEDED"
    elif status in (ExecutionStatus.TIMED_OUT, ExecutionStatus.RUNNING):
        sync_status = "TIMED_OUT"
    else:
        sync_status = "FAILED"
    stop_date = execution.stop_date or datetime.datetime.now(tz=datetime.UTC)
    response: dict[str, Any] = {
        "executionArn": execution.execution_arn if hasattr(execution, "execution_arn") else execution.exec_arn,
        "stateMachineArn": arn,
        "name": name,
        "startDate": execution.start_date,
        "stopDate": stop_date,
        "status": sync_status,
        "input": _as_json_text(execution.execution_input),
        "inputDetails": {"included": True},
        "billingDetails": {
            "billedMemoryUsedInMB": 64,
            "billedDurationInMilliseconds": max(100, int((stop_date - execution.start_date).total_seconds() * 1000)),
        },
    }
    if sync_status == "SUCCEEDED":
        response["output"] = _as_json_text(execution.output)
        response["outputDetails"] = {"included": True}
    if execution.error is not None:
        response["error"] = execution.error
    if execution.cause is not None:
        response["cause"] = execution.cause
    if status != ExecutionStatus.RUNNING:
        # AWS keeps no record of a synchronous Express execution (DescribeExecution and
        # ListExecutions do not serve them); moto would keep each one, with its history.
        with contextlib.suppress(ValueError):
            state_machine.executions.remove(execution)
    return ActionResult(response)


def _as_json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


# -- EventBridge -----------------------------------------------------------------------------


def _patch_events() -> None:
    from moto.events.models import Rule
    from moto.events.utils import EventTemplateParser

    # AWS events carry `account`; moto's default input template drops it.
    EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = (
        '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", '
        '"account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, '
        '"detail": <detail>}'
    )
    original_send = Rule.send_to_targets

    @functools.wraps(original_send)
    def send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
        hooks = _local_hooks()
        if hooks is None:
            return original_send(self, original_event, transform_input)
        if getattr(self, "state", "ENABLED") == "DISABLED":
            return None
        if getattr(self, "scheduled_expression", None) and not self.event_pattern.get_pattern():
            return None
        if not self.event_pattern.matches_event(original_event):
            return None
        ours = [t for t in self.targets if _arn_service(t.get("Arn", "")) in RUNNER_TARGET_SERVICES]
        if len(ours) < len(self.targets):
            moto_rule = copy.copy(self)
            moto_rule.targets = [t for t in self.targets if t not in ours]
            original_send(moto_rule, original_event, transform_input)
        for target in ours:
            event = json.loads(json.dumps(original_event, default=str))
            event.pop("ingestion-time", None)
            if isinstance(event.get("time"), (int, float)):
                moment = datetime.datetime.fromtimestamp(float(event["time"]), tz=datetime.UTC)
                event["time"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
            try:
                hooks.deliver_rule_target(self, target, event)
            except Exception:
                log.exception("delivering to rule target %s failed", target.get("Arn"))
        return None

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


def _arn_service(arn: str) -> str:
    parts = arn.split(":")
    return parts[2] if len(parts) > 2 else ""
