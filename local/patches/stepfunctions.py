"""Step Functions: executions counted for idleness, `StartSyncExecution`, synchronous Express runs dropped."""

from __future__ import annotations

import contextlib
import datetime
import functools
import json
import logging
import uuid
from typing import Any

from local.patches.state import EXECUTIONS, State, notify_activity

log = logging.getLogger("local.patches")

SYNC_EXECUTION_LIMIT_SECONDS = 300  # Express workflows run at most five minutes


def patch() -> None:
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.responses import StepFunctionResponse

    original_start = Execution.start
    original_logic = ExecutionWorker._execution_logic

    def _finished() -> None:
        with EXECUTIONS:
            State.running_executions -= 1
            EXECUTIONS.notify_all()
        notify_activity()

    from moto.stepfunctions.parser.utils import TMP_THREADS

    @functools.wraps(original_start)
    def start(self: Any) -> None:
        with EXECUTIONS:
            State.running_executions += 1
            if len(TMP_THREADS) > 256:  # moto keeps every execution thread it ever started
                TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]
        notify_activity()
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
        if getattr(State.request, "local", False):
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
