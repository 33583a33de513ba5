"""The process-wide part of the local cloud: one moto server, shared by every running stack.

moto's backends, the ASL interpreter's endpoint (`MOTO_PORT`) and the patched moto classes
exist once per process, so several `LocalCloud`s (say, the end-to-end suite's and the runner's
own tests') share one server: each provisions its own stack into it and removes it again on
stop; the last one to stop shuts the server down and resets moto. The `Dispatcher` routes what
moto hands the runner (an invocation, a rule delivery) to the cloud that owns the function.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

from local import patches

if TYPE_CHECKING:
    from local.cloud import LocalCloud

log = logging.getLogger(__name__)


class MotoHost:
    """The shared moto server (keep-alive, local.moto_server) with Step Functions execution switched on."""

    _lock = threading.RLock()
    _server: Any = None
    _clouds: list[LocalCloud] = []
    _saved_moto_port: str | None = None
    endpoint_url: str = ""

    @classmethod
    def attach(cls, cloud: LocalCloud) -> str:
        """Registers a cloud, starting the server for the first one; returns the endpoint URL."""
        with cls._lock:
            for other in cls._clouds:
                if other.stack.stack_name == cloud.stack.stack_name:
                    raise RuntimeError(f"stack {cloud.stack.stack_name} is already running in this process")
            if cls._server is None:
                cls._start(cloud.host)
            cls._clouds.append(cloud)
            patches.activate(DISPATCHER)
            return cls.endpoint_url

    @classmethod
    def detach(cls, cloud: LocalCloud) -> bool:
        """Unregisters a cloud; True when it was the last (the server is then stopped and moto reset)."""
        with cls._lock:
            if cloud not in cls._clouds:
                return False
            cls._clouds.remove(cloud)
            if cls._clouds:
                return False
            patches.activate(None)
            cls._stop()
            return True

    @classmethod
    def clouds(cls) -> list[LocalCloud]:
        with cls._lock:
            return list(cls._clouds)

    @classmethod
    def _start(cls, host: str) -> None:
        from local.moto_server import MotoServer

        patches.install()
        # One line per AWS call the services make would drown everything else.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = MotoServer(ip_address=host, port=0)
        server.start()
        address, port = server.get_host_and_port()
        cls._server = server
        cls.endpoint_url = f"http://{address}:{port}"
        # Step Functions execution, the runner's Lambda and EventBridge delivery apply to this
        # server's requests only (see patches.serve_requests_of), not to mock_aws() users.
        patches.serve_requests_of(server.app)
        # The ASL interpreter calls Lambda and the other services at localhost:$MOTO_PORT.
        cls._saved_moto_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(port)

    @classmethod
    def _stop(cls) -> None:
        from moto.moto_api._internal.models import moto_api_backend

        patches.serve_requests_of(None)
        if cls._server is not None:
            with contextlib.suppress(Exception):
                cls._server.stop()
            cls._server = None
        with contextlib.suppress(Exception):
            moto_api_backend.reset()
        if cls._saved_moto_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = cls._saved_moto_port
        cls.endpoint_url = ""


class Dispatcher:
    """The patches' view of all running clouds: routes each request to the owner of the function."""

    @staticmethod
    def _owner(function_name: str) -> LocalCloud | None:
        clouds = MotoHost.clouds()
        for cloud in clouds:
            if function_name in cloud.functions:
                return cloud
        return clouds[0] if clouds else None

    def invoke_function(self, function_name: str, event: Any, invoked_arn: str) -> tuple[str, bool, str]:
        owner = self._owner(function_name)
        if owner is None:
            payload = {"errorType": "ResourceNotFoundException", "errorMessage": f"Function not found: {function_name}"}
            return json.dumps(payload), True, ""
        return owner.invoke_function(function_name, event, invoked_arn)

    def invoke_function_async(self, function_name: str, event: Any) -> None:
        owner = self._owner(function_name)
        if owner is None:
            log.warning("asynchronous invocation of unknown function %s dropped", function_name)
            return
        owner.invoke_function_async(function_name, event)

    def deliver_rule_target(self, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
        arn = str(target.get("Arn", ""))
        clouds = MotoHost.clouds()
        owner = next((c for c in clouds if c.owns_arn(arn)), clouds[0] if clouds else None)
        if owner is not None:
            owner.deliver_rule_target(rule, target, event)

    def notify_activity(self) -> None:
        for cloud in MotoHost.clouds():
            cloud.activity.bump()


DISPATCHER = Dispatcher()
