"""What a local cloud runs in the background: Lambda's asynchronous invocations (retried twice on a
function error) and EventBridge's deliveries to the targets moto cannot reach (Lambda, Step
Functions, SNS), each counted while it is pending so that `wait_idle` waits for it."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from local.functions import InvocationResult
from local.mappings import Activity, send_to_destination

log = logging.getLogger("local.cloud")

ASYNC_RETRY_ATTEMPTS = 2  # Lambda's default for asynchronous invocations
ASYNC_RETRY_DELAYS = (60.0, 120.0)  # roughly what Lambda waits before each retry


class AsyncDelivery:
    """Runs asynchronous invocations and rule deliveries on `executor` until `stopping` is set."""

    def __init__(
        self,
        executor: ThreadPoolExecutor,
        stopping: threading.Event,
        activity: Activity,
        *,
        invoke: Callable[[str, Any], InvocationResult],
        client: Callable[[str], Any],
        target_client: Callable[[dict[str, Any], str], Any],
        redelivery_delay: float | None,
    ) -> None:
        self._executor = executor
        self._stopping = stopping
        self._activity = activity
        self._invoke = invoke  # an asynchronous invocation: no response size limit
        self._client = client
        self._target_client = target_client  # a client with the target's role, if it has one
        self._redelivery_delay = redelivery_delay
        self._pending = 0
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Invocations and deliveries queued or running."""
        return self._pending

    def _begin(self) -> None:
        with self._lock:
            self._pending += 1
        self._activity.bump()

    def _end(self) -> None:
        with self._lock:
            self._pending -= 1
        self._activity.bump()

    def invoke_async(self, function_name: str, event: Any) -> None:
        """Lambda's asynchronous invocation: queued, retried twice on a function error."""
        self._begin()

        def run() -> None:
            try:
                for attempt in range(ASYNC_RETRY_ATTEMPTS + 1):
                    if self._stopping.is_set():
                        return
                    result = self._invoke(function_name, event)
                    if not result.errored:
                        return
                    log.info(
                        "asynchronous invocation of %s failed (%s), attempt %d",
                        function_name,
                        result.error_type,
                        attempt + 1,
                    )
                    if attempt < ASYNC_RETRY_ATTEMPTS:
                        delay = self._redelivery_delay
                        self._stopping.wait(delay if delay is not None else ASYNC_RETRY_DELAYS[attempt])
            finally:
                self._end()

        self._executor.submit(run)

    def deliver(self, rule: Any, target: dict[str, Any], event: dict[str, Any]) -> None:
        """EventBridge delivery to targets moto cannot reach: Lambda (async), Step Functions, SNS."""
        payload = target_input(target, event)
        arn = str(target["Arn"])
        service = arn.split(":")[2]
        if service == "lambda":
            self.invoke_async(arn.split(":function:", 1)[1].split(":", maxsplit=1)[0], payload)
            return
        self._begin()

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
                self._end()

        self._executor.submit(run)


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What a rule target receives: its Input, InputPath or InputTransformer applied, else the event."""
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
