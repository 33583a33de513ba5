"""Starts the payment workflow (an Express state machine, asynchronously) by execution name."""

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
        # An Express workflow does not deduplicate names (and runs at least once): a redelivered
        # event may start a second run, which replays the stored payment (every step is
        # idempotent, every final state final) and charges nothing twice. A refusal of the name
        # (ExecutionAlreadyExists, as a Standard workflow answers) still means "already started".
        try:
            self._client.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return False
            raise
        return True
