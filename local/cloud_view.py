"""What a running local cloud shows of its stack: resources, functions, routes, boto3 clients on it, and
whether it is idle."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from local import iam as local_iam
from local.apigateway_http import MountHandler
from local.apigateway_routes import RestApi, Route
from local.apigateway_server import LocalApiServer
from local.assembly import StackArtifact
from local.cloud_delivery import AsyncDelivery
from local.cloud_idle import busy_reasons, wait_until_idle
from local.functions import FAKE_CREDENTIALS, FunctionPool
from local.mappings import Activity
from local.mappings_sqs import SqsPoller
from local.mappings_streams import StreamPoller
from local.provisioned import ProvisionedResource

_SESSION_LOCK = threading.Lock()


@cache
def _session() -> boto3.session.Session:
    """One boto3 session for every client on a local cloud: a new session parses botocore's
    endpoint and service models again (about 100 ms each), a warm one makes a client in a few ms.
    Callers hold `_SESSION_LOCK`: making clients from one session is not thread-safe."""
    return boto3.session.Session()


class CloudView:
    """The lookups of `local.cloud.LocalCloud`, over the state it provisions and starts."""

    stack: StackArtifact
    region: str
    endpoint_url: str
    resources: dict[str, ProvisionedResource]
    functions: dict[str, FunctionPool]  # function name -> pool
    apis: list[RestApi]
    iam: local_iam.Enforcer | None
    account_id: str
    pollers: list[SqsPoller | StreamPoller]
    activity: Activity
    _delivery: AsyncDelivery
    _mapped_queues: list[str]
    _by_logical_id: dict[str, FunctionPool]
    _api_server: LocalApiServer | None
    _clients: dict[str, Any]
    _clients_lock: threading.Lock

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
        with _SESSION_LOCK:
            return _session().client(service, **options)

    def resource(self, service: str, **kwargs: Any) -> Any:
        """A boto3 resource (e.g. `dynamodb`) pointed at the local moto server."""
        with _SESSION_LOCK:
            return _session().resource(
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

    def table_names(self) -> Iterator[str]:
        for resource in self.resources.values():
            if resource.emulated and resource.type in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
                yield str(resource.physical_id)

    def owns_arn(self, arn: str) -> bool:
        """Whether `arn` names a resource of this cloud's stack."""
        if ":function:" in arn:
            return arn.split(":function:", 1)[1].split(":", maxsplit=1)[0] in self.functions
        return any(resource.arn == arn for resource in self.resources.values() if resource.emulated)

    # -- idleness (local.cloud_idle) -------------------------------------------------------

    def busy(self) -> list[str]:
        """Why the cloud is not idle right now (empty when it is)."""
        return busy_reasons(
            self.functions,
            self.pollers,
            self._delivery.pending,
            self._mapped_queues,
            account_id=self.account_id,
            region=self.region,
        )

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Returns once nothing is in flight and every mapped queue and stream is drained.

        Waits on the runner's activity signal (no fixed sleeps); idleness must hold across two
        observations with no activity in between. Raises TimeoutError saying what is still busy.
        """
        wait_until_idle(self.activity, self.busy, timeout)
