"""Starts the payment workflow (a Standard state machine) by execution name."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError


class StepFunctionsWorkflowStarter:
    def __init__(self, state_machine_arn: str, client: Any | None = None) -> None:
        self._arn = state_machine_arn
        self._client = client or boto3.client("stepfunctions")

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        # The execution name is the idempotency key: a Standard workflow refuses a second
        # execution of the same name (for 90 days), so a redelivered event cannot charge twice.
        try:
            self._client.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return False
            raise
        return True
