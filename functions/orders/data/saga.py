"""Starting the order saga (an Express state machine) and waiting for its decision."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError
from pydantic import BaseModel, ConfigDict

from orders.domain.errors import SagaTimedOutError, SagaUnavailableError


class SagaExecution(BaseModel):
    """What StartSyncExecution answered: the execution, its status and its raw output."""

    model_config = ConfigDict(frozen=True)

    execution: str
    status: str
    output: str | None = None
    error: str | None = None


class SagaStarter(ABC):
    @abstractmethod
    def run(self, name: str, payload: dict[str, Any]) -> SagaExecution:
        """Run the saga to its end; raises SagaUnavailableError / SagaTimedOutError on transport faults."""

    @abstractmethod
    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start an execution without waiting for it (a compensation run); its ARN."""


class StepFunctionsSaga(SagaStarter):
    def __init__(self, state_machine_arn: str, timeout_seconds: float, client: Any | None = None) -> None:
        self._arn = state_machine_arn
        self._client = client or boto3.client(
            "stepfunctions",
            config=Config(
                connect_timeout=3,
                read_timeout=timeout_seconds,
                # No SDK retries: botocore would retry a read timeout too, starting a second
                # execution and outliving API Gateway's 29 s. A throttled start is a 503 with
                # Retry-After; the caller retries with its Idempotency-Key.
                retries={"mode": "standard", "total_max_attempts": 1},
            ),
        )

    def run(self, name: str, payload: dict[str, Any]) -> SagaExecution:
        try:
            response = self._client.start_sync_execution(
                stateMachineArn=self._arn, name=name, input=json.dumps(payload)
            )
        except ReadTimeoutError as error:
            raise SagaTimedOutError(
                "no answer from the order saga in time", execution=name, status="TIMED_OUT"
            ) from error
        except (ClientError, ConnectionError) as error:
            raise SagaUnavailableError(f"the order saga could not be started: {type(error).__name__}") from error
        return SagaExecution(
            execution=str(response.get("executionArn") or name),
            status=str(response.get("status") or "UNKNOWN"),
            output=response.get("output") if isinstance(response.get("output"), str) else None,
            error=response.get("error") if isinstance(response.get("error"), str) else None,
        )

    def start(self, name: str, payload: dict[str, Any]) -> str:
        try:
            response = self._client.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))
        except (ClientError, ConnectionError) as error:
            raise SagaUnavailableError(f"the order saga could not be started: {type(error).__name__}") from error
        return str(response["executionArn"])
