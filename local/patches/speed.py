"""Speed: what moto rebuilds on every call although it never changes, cached."""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

from local.patches import expressions, names
from local.patches.answers import answer_without_flask, cache_response_keys
from local.patches.state import State, as_local_request

log = logging.getLogger("local.patches")


def patch() -> None:
    """Caches what moto rebuilds on every call although it never changes.

    Profiling the orchestrated path showed over a third of the runner's CPU in two places:
    jsonpath_ng builds a fresh LALR parser (reading its yacc tables) for every JSONPath moto
    evaluates - 8 per EventBridge delivery to SQS, several per state - and the ASL interpreter
    parses the state machine definition with ANTLR at the start of every execution (and once
    when the state machine is created, to validate it). Compiled
    JSONPaths and the parsed program are immutable (executions keep their state in their own
    environment), so both are cached.
    """
    import jsonpath_ng
    import jsonpath_ng.ext
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import json_path

    cached_ext = functools.lru_cache(maxsize=4096)(jsonpath_ng.ext.parse)
    cached_plain = functools.lru_cache(maxsize=4096)(jsonpath_ng.parse)
    jsonpath_ng.ext.parse = cached_ext
    jsonpath_ng.parse = cached_plain
    json_path.parse = cached_ext
    result_path.parse = cached_plain

    # Parsed once per definition: when the state machine is created (moto validates it by parsing)
    # and then by every execution, which reuses that parse.
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    AmazonStateLanguageParser.parse = staticmethod(  # type: ignore[method-assign]
        functools.lru_cache(maxsize=256)(AmazonStateLanguageParser.parse)
    )

    _cache_state_machine_clients()
    _cheap_sqs_clock()
    cache_response_keys()
    names.cheap_names_and_ids()
    _json_copies()
    expressions.patch()

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
        if self is not State.server_app:
            return original_call(self, environ, start_response)
        with as_local_request():
            backend_app = self.get_application(environ)  # what moto's own __call__ does first
            answer = answer_without_flask(backend_app, environ, start_response)
            return backend_app(environ, start_response) if answer is None else answer

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


_BATCH_TASK = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch"


def defer_batch_task_import() -> None:
    """moto's Step Functions interpreter imports its AWS Batch task when it is imported, and that
    imports moto.batch and with it moto.ec2, which reads EC2's instance and image catalogues:
    about a second of CPU at every start of a local cloud, for an integration no state machine
    here uses. Until the interpreter is imported, the Batch task's module is one whose class
    imports moto's module the first time a state machine builds a Batch task, and builds that.
    Call before anything imports moto.stepfunctions.parser (patches.install does)."""
    import sys
    import types

    if _BATCH_TASK in sys.modules:
        return
    stand_in = types.ModuleType(_BATCH_TASK)

    class StateTaskServiceBatch:
        def __new__(cls, *args: Any, **kwargs: Any) -> Any:
            import importlib

            if sys.modules.get(_BATCH_TASK) is stand_in:
                del sys.modules[_BATCH_TASK]
            return importlib.import_module(_BATCH_TASK).StateTaskServiceBatch(*args, **kwargs)

    stand_in.StateTaskServiceBatch = StateTaskServiceBatch  # type: ignore[attr-defined]
    sys.modules[_BATCH_TASK] = stand_in


def json_copy(value: Any, memo: Any = None) -> Any:
    """copy.deepcopy for JSON data (dict, list, str, int, float, bool, None): the same values in
    new containers, without deepcopy's memo and per-type dispatch. Anything else, and any call
    with a memo, is copy.deepcopy's. (Unlike deepcopy, two references to one container inside
    the value become two copies; JSON has no shared references.)"""
    import copy

    kind = type(value)
    if memo is None:
        if kind is dict:
            return {key: json_copy(item) for key, item in value.items()}
        if kind is list:
            return [json_copy(item) for item in value]
        if kind in (str, int, float, bool) or value is None:
            return value
    return copy.deepcopy(value, memo)


def _json_copies() -> None:
    """The Step Functions interpreter deep-copies a state's data at every JSONPath it reads and at
    every state's input and result (47 copies per orchestrated order), and EventBridge copies its
    event template per delivery: a seventh of the runner's CPU in those paths, in copy.deepcopy.
    The data are JSON, so those modules copy them with json_copy."""
    import copy
    import types

    from moto.events import models as events_models
    from moto.stepfunctions.parser.asl.component.common.string import string_expression
    from moto.stepfunctions.parser.asl.eval import states

    copying = types.ModuleType("copy")
    copying.__dict__.update(vars(copy))
    copying.deepcopy = json_copy  # type: ignore[attr-defined]
    for module in (states, string_expression, events_models):
        module.copy = copying  # type: ignore[attr-defined]


def _cheap_sqs_clock() -> None:
    """moto's SQS reads the clock through naive datetimes (an epoch datetime built, a timedelta
    taken) several times per message on every receive, and checks each message's retention by
    building all of its queue's attributes, counting the queue's messages three times, for one
    value. Profiled under load, that was a sixth of the runner's busy time. The same values,
    straight from the clock and the queue."""
    import time

    from moto.sqs import models

    original_unix_time = models.unix_time

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else float(original_unix_time(dt))

    def unix_time_millis(dt: Any = None) -> float:
        return unix_time(dt) * 1000.0

    models.unix_time = unix_time
    models.unix_time_millis = unix_time_millis

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())

    models.SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
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
