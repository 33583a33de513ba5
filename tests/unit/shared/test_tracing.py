"""Tracer with X-Ray loaded by the first traced call: in a fresh interpreter, as a cold start is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parents[3] / "functions"

_SCRIPT = """
import json, sys
from shared.observability import observability

logger, tracer, metrics = observability("probe")
at_init = "aws_xray_sdk.core" in sys.modules

@tracer.capture_method(capture_response=False)
def step():
    tracer.put_annotation("step", "one")
    tracer.put_metadata("detail", {"n": 1})
    return 1

@tracer.capture_lambda_handler(capture_response=False)
def handler(event, context):
    return step()

result = handler({}, None)
patched = []
if "aws_xray_sdk.core" in sys.modules:
    from aws_xray_sdk.core.patcher import _PATCHED_MODULES
    patched = sorted(_PATCHED_MODULES)
print(json.dumps({"at_init": at_init, "after": "aws_xray_sdk.core" in sys.modules, "patched": patched,
                  "result": result}))
"""


def _run(**environment: str) -> dict[str, object]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(FUNCTIONS),
        "AWS_REGION": "eu-west-1",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        **environment,
    }
    completed = subprocess.run(
        [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_tracing_on_loads_xray_with_the_first_invocation_and_patches_botocore_only() -> None:
    outcome = _run(
        LAMBDA_TASK_ROOT=str(FUNCTIONS),
        _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    )
    assert outcome == {"at_init": False, "after": True, "patched": ["botocore"], "result": 1}


def test_tracing_off_never_loads_xray() -> None:
    outcome = _run(LAMBDA_TASK_ROOT=str(FUNCTIONS), POWERTOOLS_TRACE_DISABLED="true")
    assert outcome == {"at_init": False, "after": False, "patched": [], "result": 1}
