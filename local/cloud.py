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

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

from local import iam as local_iam
from local import meter as metering
from local.apigateway_routes import RestApi
from local.apigateway_server import LocalApiServer
from local.assembly import CloudAssembly, StackArtifact
from local.cloud_delivery import AsyncDelivery
from local.cloud_invoke import function_not_found, invoke_pool
from local.cloud_view import CloudView
from local.cloud_wiring import api_gateway, provision, start_pollers
from local.functions import FunctionPool, FunctionSpec, InvocationResult
from local.host import MotoHost
from local.mappings import Activity
from local.mappings_sqs import SqsPoller
from local.mappings_streams import StreamPoller
from local.provision import Provisioner
from local.provisioned import ProvisionedResource
from local.schedules import Scheduler

log = logging.getLogger(__name__)

ACCOUNT_ID = "123456789012"  # moto's default account: every local ARN lives here
DEFAULT_REGION = "us-east-1"


class LocalCloud(CloudView):
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
        self._stopping = threading.Event()
        self._delivery = AsyncDelivery(
            self._async,
            self._stopping,
            self.activity,
            invoke=lambda name, event: self._invoke_by_name(name, event, synchronous=False),
            client=self._client,
            target_client=self._target_client,
            redelivery_delay=redelivery_delay,
        )
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
        started = time.monotonic()
        provisioner, self.outputs = provision(
            self.stack,
            self._client,
            region=self.region,
            account_id=self.account_id,
            parameters=self.parameters,
            work_dir=self.work_dir / "functions",
        )
        self.resources = provisioner.resources
        emulated = sum(1 for r in self.resources.values() if r.emulated)
        say(f"provisioned {emulated} of {len(self.resources)} resources in {time.monotonic() - started:.1f} s")
        return provisioner

    def _start_mappings(self, provisioner: Provisioner) -> None:
        start_pollers(  # local.cloud_wiring
            provisioner.mappings,
            self.functions,
            self._invoke_pool,
            self._client,
            pollers=self.pollers,
            mapped_queues=self._mapped_queues,
            account_id=self.account_id,
            region=self.region,
            redelivery_delay=self.redelivery_delay,
            max_concurrency=self.max_concurrency,
            activity=self.activity,
        )

    def _start_api(self) -> None:
        self.apis, gateway = api_gateway(self.resources, self._invoke_by_name, self.account_id, self.meter)
        if gateway is not None:
            self._api_server = LocalApiServer(gateway, self.host, self.api_port)
            self._api_server.start()

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
        return invoke_pool(pool, event, invoked_arn, synchronous=synchronous, meter=self.meter)

    def _invoke_by_name(self, function_name: str, event: Any, *, synchronous: bool = True) -> InvocationResult:
        pool = self.functions.get(function_name)
        if pool is None:
            return function_not_found(function_name)
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
        self._delivery.invoke_async(function_name, event)

    def deliver_rule_target(self, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
        """EventBridge delivery to targets moto cannot reach: Lambda (async), Step Functions, SNS."""
        self._delivery.deliver(rule, target, event)

    def invoke(self, function: str, event: Any) -> InvocationResult:
        """Invokes a function of the stack (logical id, name or construct path) directly."""
        return self._invoke_pool(self._pool(function), event)
