"""The local cloud: a synthesized stack provisioned into moto and run, with no AWS account.

    from local.cloud import LocalCloud

    with LocalCloud.from_assembly("cdk.out", api_port=0, redelivery_delay=0) as cloud:
        requests.post(f"{cloud.api_url}/items", json=...)
        cloud.wait_idle()
        table = cloud.find(type="AWS::DynamoDB::Table", path_contains="Items").physical_id

Several clouds (of different stacks) may run in one process: they share one moto server
(local.host), and each removes its own resources from it when it stops.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

from local import iam as local_iam
from local import limits, patches
from local import meter as metering
from local.apigateway import ApiGateway
from local.apigateway_http import MountHandler
from local.apigateway_routes import RestApi, Route, build_rest_apis
from local.apigateway_server import LocalApiServer
from local.assembly import CloudAssembly, StackArtifact
from local.functions import FAKE_CREDENTIALS, FunctionPool, FunctionSpec, InvocationResult
from local.host import MotoHost
from local.mappings import Activity, send_to_destination
from local.mappings_sqs import SqsPoller
from local.mappings_streams import StreamPoller
from local.provision import Provisioner
from local.provisioned import ProvisionedResource
from local.schedules import Scheduler
from local.template import TemplateResolver

log = logging.getLogger(__name__)

ACCOUNT_ID = "123456789012"  # moto's default account: every local ARN lives here
DEFAULT_REGION = "us-east-1"
ASYNC_RETRY_ATTEMPTS = 2  # Lambda's default for asynchronous invocations
ASYNC_RETRY_DELAYS = (60.0, 120.0)  # roughly what Lambda waits before each retry
IDLE_POLL_SECONDS = 0.05
IDLE_SETTLE_SECONDS = 0.02


class LocalCloud:
    """Provisions one stack of a cloud assembly into an in-process moto server and runs it.

    Args:
        assembly: the loaded cloud assembly (see `from_assembly`).
        stack: the stack to run.
        api_port: port of the REST API server (0: a free one).
        host: interface to serve on; only loopback is meant.
        redelivery_delay: local-only speed knob. None (default) is faithful: a failed SQS message
            reappears after the queue's visibility timeout, a failed stream batch is retried with
            exponential backoff, a failed asynchronous invocation after about a minute. A number
            makes the runner bring failed messages back after that many seconds and use it as the
            retry delay for streams and asynchronous invocations, so that tests stay fast.
        max_concurrency: execution environments (worker processes) per function at most.
        region: the region of every local ARN (default: the stack's, else us-east-1).
        work_dir: where logs (`<work_dir>/logs/<function>.log`) and extracted code go.
        parameters: values for template parameters (else their defaults).
        prewarm: start one worker per function in the background at startup.
        schedules: fire the template's `rate(...)` schedule rules on time (`scheduler.fire()`
            fires one at a chosen time either way).
        metered: count what each order would be billed for in `self.meter` (local.meter).
        iam: authorize every call a function, a state machine or a rule target makes against its
            role as the template declares it (local.iam); False lets every call through.
    """

    def __init__(
        self,
        assembly: CloudAssembly,
        stack: StackArtifact,
        *,
        api_port: int = 0,
        host: str = "127.0.0.1",
        redelivery_delay: float | None = None,
        max_concurrency: int = 4,
        region: str | None = None,
        work_dir: str | Path | None = None,
        parameters: dict[str, Any] | None = None,
        prewarm: bool = False,
        schedules: bool = True,
        metered: bool = False,
        iam: bool = True,
    ) -> None:
        self.assembly = assembly
        self.stack = stack
        self.host = host
        self.api_port = api_port
        self.redelivery_delay = redelivery_delay
        self.max_concurrency = max_concurrency
        self.region = region or stack.region or DEFAULT_REGION
        self.account_id = ACCOUNT_ID
        self.work_dir = Path(work_dir) if work_dir is not None else Path.cwd() / ".local"
        self.log_dir = self.work_dir / "logs"
        self.parameters = parameters or {}
        self.prewarm = prewarm
        self.schedules = schedules
        self.scheduler: Scheduler | None = None
        self.resources: dict[str, ProvisionedResource] = {}
        self.outputs: dict[str, Any] = {}
        self.functions: dict[str, FunctionPool] = {}  # function name -> pool
        self.apis: list[RestApi] = []
        self.pollers: list[SqsPoller | StreamPoller] = []
        self.activity = Activity()
        self._by_logical_id: dict[str, FunctionPool] = {}
        self._attached = False
        self._provisioner: Provisioner | None = None
        self.endpoint_url = ""
        self._api_server: LocalApiServer | None = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._async = ThreadPoolExecutor(16, thread_name_prefix="async-invoke")
        self._pending_async = 0
        self._pending_lock = threading.Lock()
        self._stopping = threading.Event()
        self._started = False
        self._mapped_queues: list[str] = []
        self.meter: metering.Meter | None = metering.Meter() if metered else None
        self.iam_enabled = iam
        self.iam: local_iam.Enforcer | None = None

    @classmethod
    def from_assembly(cls, path: str | Path = "cdk.out", stack: str | None = None, **options: Any) -> LocalCloud:
        """A local cloud for `stack` (default: the only or first one) of the assembly at `path`."""
        assembly = CloudAssembly.load(path)
        return cls(assembly, assembly.stack(stack), **options)

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, progress: Callable[[str], None] | None = None) -> LocalCloud:
        say = progress or (lambda message: log.info("%s", message))
        self.endpoint_url = MotoHost.attach(self)
        self._attached = True
        if self.meter is not None:
            metering.register(self.meter)
        try:
            say(f"moto server on {self.endpoint_url}")
            self._provisioner = self._provision(say)
            if self.iam_enabled:
                self.iam = local_iam.for_cloud(self, say)
            self._start_functions(self._provisioner.functions)
            self._start_mappings(self._provisioner)
            self._start_api()
            self.scheduler = Scheduler(self)
            if self.schedules:
                self.scheduler.start()
            self._started = True
        except BaseException:
            self.stop()
            raise
        return self

    def _provision(self, say: Callable[[str], None]) -> Provisioner:
        resolver = TemplateResolver(
            self.stack.template,
            stack_name=self.stack.stack_name,
            region=self.region,
            account_id=self.account_id,
            parameters=self.parameters,
            ssm_lookup=self._ssm_value,
        )
        provisioner = Provisioner(self.stack, resolver, self._client, work_dir=self.work_dir / "functions")
        started = time.monotonic()
        provisioner.provision_all()
        self.resources = provisioner.resources
        self.outputs = self._outputs(resolver)
        emulated = sum(1 for r in self.resources.values() if r.emulated)
        say(f"provisioned {emulated} of {len(self.resources)} resources in {time.monotonic() - started:.1f} s")
        return provisioner

    def _outputs(self, resolver: TemplateResolver) -> dict[str, Any]:
        outputs = {}
        for name, output in self.stack.template.get("Outputs", {}).items():
            try:
                outputs[name] = resolver.resolve(output.get("Value"))
            except Exception as error:
                log.debug("output %s not resolvable locally: %s", name, error)
        return outputs

    def _ssm_value(self, name: str) -> str | None:
        try:
            return self._client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
        except Exception:
            return None

    def _start_functions(self, specs: dict[str, FunctionSpec]) -> None:
        for logical_id, spec in specs.items():
            pool = FunctionPool(
                spec,
                region=self.region,
                endpoint_url=self.endpoint_url,
                max_concurrency=self.max_concurrency,
                log_dir=self.log_dir,
                on_activity=self.activity.bump,
                credentials=None if self.iam is None else self.iam.function_credentials(self.resources[logical_id]),
            )
            self.functions[spec.name] = pool
            self._by_logical_id[logical_id] = pool
            if self.prewarm and spec.runtime.startswith("python") and spec.code_dir is not None:
                self._async.submit(pool.prewarm)

    def _start_mappings(self, provisioner: Provisioner) -> None:
        for mapping in provisioner.mappings:
            props = mapping.properties
            if str(props.get("Enabled", True)).lower() == "false":
                log.info("event source mapping %s is disabled", mapping.logical_id)
                continue
            pool = self.functions.get(mapping.function_name)
            if pool is None:
                log.warning(
                    "event source mapping %s targets unknown function %s", mapping.logical_id, mapping.function_name
                )
                continue
            arn = mapping.event_source_arn
            service = arn.split(":")[2] if arn.count(":") >= 5 else ""

            def invoke(event: dict[str, Any], pool: FunctionPool = pool) -> InvocationResult:
                return self._invoke_pool(pool, event)

            poller: SqsPoller | StreamPoller
            if service == "sqs":
                queue_name = arn.rsplit(":", 1)[-1]
                url = self._client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]
                poller = SqsPoller(
                    mapping,
                    invoke,
                    self._client,
                    queue_url=url,
                    queue_arn=arn,
                    region=self.region,
                    redelivery_delay=self.redelivery_delay,
                    max_concurrency=self.max_concurrency,
                    activity=self.activity,
                )
                self._mapped_queues.append(queue_name)
            elif service == "dynamodb" and "/stream/" in arn:
                table = arn.split(":table/", 1)[1].split("/stream/", 1)[0]
                poller = StreamPoller(
                    mapping,
                    invoke,
                    self._client,
                    function_arn=pool.spec.arn,
                    region=self.region,
                    redelivery_delay=self.redelivery_delay,
                    activity=self.activity,
                    shard_end=functools.partial(self._shard_end, table),
                )
            else:
                log.warning("event source mapping %s: source %s is not emulated locally", mapping.logical_id, arn)
                continue
            self.pollers.append(poller)
            poller.start()

    def _start_api(self) -> None:
        self.apis = build_rest_apis(self.resources)
        if not self.apis:
            return
        if len(self.apis) > 1:
            log.info("%d REST APIs: all served on one port, routes tried in template order", len(self.apis))
        gateway = ApiGateway(self.apis, self._invoke_by_name, account_id=self.account_id)
        if self.meter is not None:
            handle, meter = gateway.handle, self.meter

            def metered_handle(
                method: str, raw_path: str, headers: list[tuple[str, str]], *args: Any, **kw: Any
            ) -> Any:
                return meter.api_request(
                    method, raw_path, headers, lambda: handle(method, raw_path, headers, *args, **kw)
                )

            gateway.handle = metered_handle  # type: ignore[method-assign]
        self._api_server = LocalApiServer(gateway, self.host, self.api_port)
        self._api_server.start()

    def stop(self) -> None:
        """Stops everything this cloud started and removes its resources from moto.

        The last cloud of the process stops the moto server and resets moto instead.
        """
        self._stopping.set()
        if self.meter is not None:
            metering.unregister(self.meter)
        if self.scheduler is not None:
            self.scheduler.stop()
        if self._api_server is not None:
            self._api_server.stop()
            self._api_server = None
        for poller in self.pollers:
            poller.stop()
        self._async.shutdown(wait=False, cancel_futures=True)
        for pool in self.functions.values():
            pool.begin_close()
        for pool in self.functions.values():
            pool.close()
        if self.iam is not None:
            self.iam.close()
        if not self._attached:
            return
        self._attached = False
        others_running = len(MotoHost.clouds()) > 1
        if others_running and self._provisioner is not None:
            self._provisioner.teardown()
        MotoHost.detach(self)

    # -- invocations (also the hooks moto's patched Lambda calls) ------------------------

    def _invoke_pool(
        self, pool: FunctionPool, event: Any, invoked_arn: str | None = None, *, synchronous: bool = True
    ) -> InvocationResult:
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
        if self.meter is not None:
            self.meter.lambda_invocation(spec, event, result)
        return result

    def _invoke_by_name(self, function_name: str, event: Any, *, synchronous: bool = True) -> InvocationResult:
        pool = self.functions.get(function_name)
        if pool is None:
            payload = {"errorType": "ResourceNotFoundException", "errorMessage": f"Function not found: {function_name}"}
            return InvocationResult(json.dumps(payload), True, str(uuid.uuid4()))
        return self._invoke_pool(pool, event, synchronous=synchronous)

    def invoke_function(self, function_name: str, event: Any, invoked_arn: str) -> tuple[str, bool, str]:
        pool = self.functions.get(function_name)
        if pool is None:
            result = self._invoke_by_name(function_name, event)
        else:
            result = self._invoke_pool(pool, event, invoked_arn)
        return result.payload, result.errored, "\n".join(result.logs)

    def invoke_function_async(self, function_name: str, event: Any) -> None:
        """Lambda's asynchronous invocation: queued, retried twice on a function error."""
        with self._pending_lock:
            self._pending_async += 1
        self.activity.bump()

        def run() -> None:
            try:
                for attempt in range(ASYNC_RETRY_ATTEMPTS + 1):
                    if self._stopping.is_set():
                        return
                    result = self._invoke_by_name(function_name, event, synchronous=False)
                    if not result.errored:
                        return
                    log.info(
                        "asynchronous invocation of %s failed (%s), attempt %d",
                        function_name,
                        result.error_type,
                        attempt + 1,
                    )
                    if attempt < ASYNC_RETRY_ATTEMPTS:
                        delay = (
                            self.redelivery_delay if self.redelivery_delay is not None else ASYNC_RETRY_DELAYS[attempt]
                        )
                        self._stopping.wait(delay)
            finally:
                with self._pending_lock:
                    self._pending_async -= 1
                self.activity.bump()

        self._async.submit(run)

    def deliver_rule_target(self, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
        """EventBridge delivery to targets moto cannot reach: Lambda (async), Step Functions, SNS."""
        payload = self._target_input(target, event)
        arn = str(target["Arn"])
        service = arn.split(":")[2]
        if service == "lambda":
            self.invoke_function_async(arn.split(":function:", 1)[1].split(":", maxsplit=1)[0], payload)
            return
        with self._pending_lock:
            self._pending_async += 1
        self.activity.bump()

        def run() -> None:
            try:
                if service == "states":
                    self._target_client(target, "stepfunctions").start_execution(
                        stateMachineArn=arn, name=str(uuid.uuid4()), input=json.dumps(payload)
                    )
                elif service == "sns":
                    self._client("sns").publish(TopicArn=arn, Message=json.dumps(payload))
            except Exception as error:
                log.warning("rule %s could not deliver to %s: %s", getattr(rule, "name", "?"), arn, error)
                dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
                if dead_letter:
                    send_to_destination(self._client, dead_letter, payload)
            finally:
                with self._pending_lock:
                    self._pending_async -= 1
                self.activity.bump()

        self._async.submit(run)

    def _target_client(self, target: dict[str, Any], service: str) -> Any:
        """The runner's client, or one with the target's role (`RoleArn`) when IAM is enforced."""
        role = target.get("RoleArn")
        if self.iam is None or not role:
            return self._client(service)
        key = f"{service}@{role}"
        with self._clients_lock:
            if key not in self._clients:
                keys = self.iam.register(str(role), local_iam.EVENTS_SESSION)
                self._clients[key] = self.client(
                    service,
                    aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
                    aws_session_token=keys["AWS_SESSION_TOKEN"],
                )
            return self._clients[key]

    def owns_arn(self, arn: str) -> bool:
        """Whether `arn` names a resource of this cloud's stack."""
        if ":function:" in arn:
            return arn.split(":function:", 1)[1].split(":", maxsplit=1)[0] in self.functions
        return any(resource.arn == arn for resource in self.resources.values() if resource.emulated)

    @staticmethod
    def _target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
        if "Input" in target:
            return json.loads(target["Input"])
        if "InputPath" in target:
            from jsonpath_ng.ext import parse

            matches = parse(target["InputPath"]).find(event)
            return matches[0].value if matches else None
        if "InputTransformer" in target:
            from moto.events.utils import EventTemplateParser

            transformer = target["InputTransformer"]
            source = {**event, "ingestion-time": event.get("ingestion-time", time.time())}
            return EventTemplateParser.parse(
                input_template=transformer.get("InputTemplate"),
                input_paths_map=transformer.get("InputPathsMap", {}),
                event=source,  # type: ignore[arg-type]
            )
        return event

    def invoke(self, function: str, event: Any) -> InvocationResult:
        """Invokes a function of the stack (logical id, name or construct path) directly."""
        return self._invoke_pool(self._pool(function), event)

    # -- lookups -------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        if self._api_server is None:
            raise RuntimeError("the stack has no REST API")
        return self._api_server.url

    def routes(self) -> list[Route]:
        return [route for api in self.apis for route in api.routes()]

    def mount(self, prefix: str, handler: MountHandler | None) -> None:
        """Serve `prefix` and everything under it on the API's port with `handler` (an
        `ApiRequest -> ApiResponse` callable, e.g. `local.apigateway_http.static_files(dir, prefix)`),
        ahead of the template's routes; None unmounts. For pages and tools beside the API."""
        if self._api_server is None:
            raise RuntimeError("the stack has no REST API to mount beside")
        self._api_server.gateway.mount(prefix, handler)

    def client(self, service: str, **kwargs: Any) -> Any:
        """A new boto3 client for `service`, pointed at the local moto server."""
        config = Config(
            inject_host_prefix=False,
            retries={"max_attempts": 2, "mode": "standard"},
            max_pool_connections=32,
        )
        options: dict[str, Any] = {
            "region_name": self.region,
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "aws_session_token": FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            "config": config,
        }
        options.update(kwargs)
        return boto3.session.Session().client(service, **options)

    def resource(self, service: str, **kwargs: Any) -> Any:
        """A boto3 resource (e.g. `dynamodb`) pointed at the local moto server."""
        return boto3.session.Session().resource(
            service,
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            config=Config(inject_host_prefix=False),
            **kwargs,
        )

    def _client(self, service: str) -> Any:
        """The runner's own cached client per service (boto3 clients are thread-safe)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = self.client(service)
            return self._clients[service]

    def physical_id(self, logical_id: str) -> Any:
        """What `Ref` gives for a resource locally (a table name, queue URL, state machine ARN...)."""
        try:
            return self.resources[logical_id].physical_id
        except KeyError:
            close = [key for key in self.resources if key.startswith(logical_id[:6])][:5]
            raise LookupError(f"no resource {logical_id!r} in stack {self.stack.stack_name} (close: {close})") from None

    def find_all(
        self, type: str | None = None, path_contains: str | None = None, logical_id_prefix: str | None = None
    ) -> list[ProvisionedResource]:
        """Resources by type and/or construct path (aws:cdk:path) fragment and/or logical id prefix."""
        found = []
        for resource in self.resources.values():
            if type is not None and resource.type != type:
                continue
            if path_contains is not None and path_contains not in (resource.path or ""):
                continue
            if logical_id_prefix is not None and not resource.logical_id.startswith(logical_id_prefix):
                continue
            found.append(resource)
        return found

    def find(
        self, type: str | None = None, path_contains: str | None = None, logical_id_prefix: str | None = None
    ) -> ProvisionedResource:
        """Exactly one resource matching `find_all`; LookupError if none or several."""
        found = self.find_all(type, path_contains, logical_id_prefix)
        if len(found) != 1:
            described = f"type={type!r} path_contains={path_contains!r} logical_id_prefix={logical_id_prefix!r}"
            names = [f"{r.logical_id} ({r.path})" for r in found[:10]]
            raise LookupError(f"{len(found)} resources match {described}: {names}")
        return found[0]

    def _pool(self, function: str) -> FunctionPool:
        if function in self.functions:
            return self.functions[function]
        if function in self._by_logical_id:
            return self._by_logical_id[function]
        matches = [
            pool
            for logical_id, pool in self._by_logical_id.items()
            if function in (self.resources[logical_id].path or "")
        ]
        if len(matches) == 1:
            return matches[0]
        raise LookupError(f"no single function {function!r}; functions: {sorted(self.functions)}")

    def function_name(self, function: str) -> str:
        return self._pool(function).spec.name

    def logs(self, function: str) -> list[str]:
        """The log lines a function's handler wrote (stdout and stderr), oldest first."""
        return self._pool(function).logs.lines()

    # -- idleness ------------------------------------------------------------------------

    def _shard_end(self, table_name: str) -> int:
        from moto.dynamodb.models import dynamodb_backends

        try:
            table = dynamodb_backends[self.account_id][self.region].get_table(table_name)
        except Exception:  # gone (moto reset by someone else's mock_aws): nothing to drain
            return 0
        shard = table.stream_shard
        return 0 if shard is None else shard.starting_sequence_number + len(shard.items)

    def busy(self) -> list[str]:
        """Why the cloud is not idle right now (empty when it is)."""
        from moto.sqs.models import sqs_backends

        reasons = [f"{name}: {pool.in_flight} invocation(s)" for name, pool in self.functions.items() if pool.in_flight]
        if self._pending_async:
            reasons.append(f"{self._pending_async} asynchronous invocation(s) or rule deliveries")
        running = patches.running_executions()
        if running:
            reasons.append(f"{running} state machine execution(s) running")
        reasons += [
            f"{poller.describe()}: batch in progress or records pending" for poller in self.pollers if poller.busy
        ]
        backend = sqs_backends[self.account_id][self.region]
        for name in self._mapped_queues:
            try:
                queue = backend.get_queue(name)
            except Exception as error:  # gone (moto reset by someone else's mock_aws)
                log.debug("queue %s not checked: %s", name, error)
                continue
            waiting = (
                queue.approximate_number_of_messages
                + queue.approximate_number_of_messages_not_visible
                + queue.approximate_number_of_messages_delayed
            )
            if waiting:
                reasons.append(f"queue {name}: {waiting} message(s)")
        return reasons

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Returns once nothing is in flight and every mapped queue and stream is drained.

        Waits on the runner's activity signal (no fixed sleeps); idleness must hold across two
        observations with no activity in between. Raises TimeoutError saying what is still busy.
        """
        deadline = time.monotonic() + timeout
        quiet_generation: int | None = None
        while True:
            generation = self.activity.generation
            reasons = self.busy()
            quiet = not reasons and self.activity.generation == generation
            if quiet and quiet_generation == generation:
                return
            quiet_generation = generation if quiet else None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"local cloud not idle after {timeout} s: {'; '.join(reasons) or 'activity'}")
            self.activity.wait(generation, min(remaining, IDLE_SETTLE_SECONDS if quiet else IDLE_POLL_SECONDS))

    # -- introspection -------------------------------------------------------------------

    def table_names(self) -> Iterator[str]:
        for resource in self.resources.values():
            if resource.emulated and resource.type in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
                yield str(resource.physical_id)
