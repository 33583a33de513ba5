"""Speed: what moto rebuilds on every call although it never changes, cached."""

from __future__ import annotations

import functools
import logging
import threading
from typing import Any

from botocore.exceptions import ClientError

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


def answer_without_flask(backend_app: Any, environ: dict[str, Any], start_response: Any) -> Any:
    """Runs one request on moto's backend app the way its Flask app would, without Flask.

    moto's server wraps every service in a Flask app whose only view is moto's own
    `convert_to_flask_response` around the service's dispatch. Flask's request context, hooks
    and response finalizing cost a fifth of a GetItem's time in moto and add nothing to an SDK
    request: moto's views read only the request, and the one after-request hook (CORS) adds the
    same header to every answer to a request without an Origin. So the URL is matched on the
    app's own rules and the view's callback gets the request as moto's view builds it; the answer
    is the same Flask Response, with that header.

    Returns None, having done nothing, where Flask must answer: a browser's request (Origin or
    OPTIONS, for CORS), a URL the rules do not match (Flask's 404/405/redirect), a view that is
    not moto's dispatch (moto's own dashboard). Compared with Flask's answers in
    tests/local/test_speed_patches.py."""
    from flask import Response
    from moto.core.utils import convert_to_flask_response, normalize_request
    from moto.moto_api import recorder
    from werkzeug.exceptions import HTTPException

    if environ.get("HTTP_ORIGIN") or environ.get("REQUEST_METHOD") == "OPTIONS":
        return None
    hooks = backend_app.after_request_funcs.get(None, [])
    if any(getattr(hook, "__name__", "") != "cors_after_request" for hook in hooks):
        return None
    try:
        endpoint, _ = backend_app.url_map.bind_to_environ(environ).match()
    except HTTPException:
        return None
    view = backend_app.view_functions.get(endpoint)
    if not isinstance(view, convert_to_flask_response):
        return None
    request = backend_app.request_class(environ)
    request.json_module = backend_app.json
    try:
        # From here on, what moto's convert_to_flask_response.__call__ does.
        request = normalize_request(request)
        recorder._record_request(request)
        try:
            result = view.callback(request, request.raw_url, dict(request.headers))
        except ClientError as exc:
            result = 400, {}, exc.response["Error"]["Message"]
        if len(result) == 3:
            status, headers, content = result
        else:
            status, headers, content = 200, {}, result
        response: Any = Response(response=content, status=status, headers=headers)
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
    except HTTPException as refused:  # Flask answers a view's HTTP exception with its response
        response = refused.get_response(environ)
    if hooks and "Access-Control-Allow-Origin" not in response.headers:
        # moto's CORS(app) (flask_cors, every origin allowed) answers a request without an
        # Origin with this one header.
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response(environ, start_response)


def cache_response_keys() -> None:
    """moto's response serializer looks up every member of every output shape through six alias
    providers, built anew for each lookup, plus the snake_case form of each name. For a DynamoDB
    item that is ten members per attribute value (S, N, B, ... BOOL), about 120 lookups and 300
    dictionary probes for a 13-attribute item: half of a GetItem's time in moto's server.

    For a plain dict the keys tried depend only on the member (its shape, name and enclosing
    structure) and on the picker, never on the dict's contents: no dict has a `Meta` alias table
    and every dict's class name is `dict`. So they are worked out once per member shape, by
    moto's own providers, and kept on the shape; the values are then read in the same order with
    the same "first present key wins" rule, so the answer is byte for byte moto's
    (tests/local/test_speed_patches.py). Objects other than plain dicts, and pickers with
    response transformers (which see the key path), take moto's own path. Installed process-wide
    and idempotent: the unit tests' `mock_aws` gets it too (tests/conftest.py)."""
    from moto.core import serialize
    from moto.core.utils import get_value as moto_get_value

    if getattr(serialize.ResponseSerializer.get_value, "_local_cached", False):
        return
    original = serialize.ResponseSerializer.get_value
    missing = serialize.MISSING

    @functools.wraps(original)
    def get_value(self: Any, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if (
            type(value) is not dict
            or shape is None
            or not isinstance(picker, serialize.AttributePicker)
            or type(picker).__call__ is not serialize.AttributePicker.__call__
            or picker.response_transformers
        ):
            return original(self, value, key, shape)
        known = shape.__dict__.get("_local_possible_keys")
        if known is None:
            known = shape.__dict__.setdefault("_local_possible_keys", {})
        # The enclosing structure is part of the question (ShapeNameAlias and ShapePrefixAlias
        # read shape.parent), and so are the picker's class and providers.
        question = (type(picker), tuple(picker.alias_providers), key, id(getattr(shape, "parent", None)))
        keys = known.get(question)
        if keys is None:
            context = serialize.AttributePickerContext(
                obj=value,
                key=key,
                shape=shape,
                operation_model=self.operation_model,
                service_model=self.operation_model.service_model,
                key_path=".".join(self.path),
            )
            keys = known[question] = tuple(
                (candidate, isinstance(candidate, str) and "." in candidate)
                for candidate in picker.get_possible_keys(context)
            )
        for candidate, is_path in keys:
            found = moto_get_value(value, candidate, missing) if is_path else value.get(candidate, missing)
            if found is not missing:
                return found
        return None

    get_value._local_cached = True  # type: ignore[attr-defined]
    get_value._moto_original = original  # type: ignore[attr-defined]
    serialize.ResponseSerializer.get_value = get_value  # type: ignore[method-assign]


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
