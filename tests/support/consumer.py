"""A service's handlers on moto: its queue consumer driven as its event source mapping would, with its fault
switch; a refused input's (lack of) effects."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from shared import faults
from shared.events import Envelope
from tests.support.events import LambdaContext, sqs_event

FAULTS_PARAMETER = "/orderflow/faults"


def consumer_handler(monkeypatch: pytest.MonkeyPatch, module: str, **variables: str) -> ModuleType:
    """The consumer's handler module, with its settings (`variables`) and the fault document's parameter."""
    for name, value in {**variables, "ORDERFLOW_FAULTS_PARAMETER": FAULTS_PARAMETER}.items():
        monkeypatch.setenv(name, value)
    return importlib.import_module(module)


@dataclass
class Consumer:
    handler: ModuleType
    function_name: str

    @staticmethod
    def sqs_event(*envelopes: Envelope) -> dict[str, Any]:
        return sqs_event(*envelopes)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.handler.lambda_handler(event, LambdaContext(self.function_name))

    def deliver(self, *envelopes: Envelope) -> dict[str, Any]:
        return self.invoke(sqs_event(*envelopes))

    @staticmethod
    def set_faults(document: dict[str, Any]) -> None:
        boto3.client("ssm").put_parameter(
            Name=FAULTS_PARAMETER, Value=json.dumps(document), Type="String", Overwrite=True
        )
        faults.reset_cache()


def assert_refused_without_effects(handler: ModuleType, event: Any, *effects: Callable[[], list[Any]]) -> None:
    """The handler refuses `event` (a ValidationError) before it writes or announces anything: each of `effects`
    (what the table holds, what the bus received, ...) is still empty."""
    with pytest.raises(ValidationError):
        handler.lambda_handler(event, LambdaContext())
    for effect in effects:
        assert effect() == []
