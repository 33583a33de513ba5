"""The wait after a switch of the fault document follows the functions' own cache time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ops import fault_document
from tests.support.stack_context import FAULTS_CACHE_SECONDS


def test_the_default_is_the_functions_own() -> None:
    """shared/faults.py's cache without the variable (read in a clean process: the module reads it once)."""
    environment = {key: value for key, value in os.environ.items() if key != "ORDERFLOW_FAULTS_CACHE_SECONDS"}
    printed = subprocess.run(
        [sys.executable, "-c", "from shared import faults; print(faults._CACHE_SECONDS)"],
        env={**environment, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "functions")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert float(printed) == fault_document.DEFAULT_CACHE_SECONDS


def test_the_test_stack_waits_its_shorter_cache(synthesized: Any) -> None:
    assert fault_document.cache_seconds(synthesized.template_json) == FAULTS_CACHE_SECONDS
    assert fault_document.settle_seconds(synthesized.template_json) == (
        FAULTS_CACHE_SECONDS + fault_document.READ_IN_FLIGHT_SECONDS
    )


def test_a_function_without_the_variable_waits_the_default() -> None:
    template = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Environment": {"Variables": {"ORDERFLOW_FAULTS_PARAMETER": "p"}}},
            },
            "Other": {"Type": "AWS::Lambda::Function", "Properties": {}},
        }
    }
    assert fault_document.cache_seconds(template) == fault_document.DEFAULT_CACHE_SECONDS
    assert fault_document.cache_seconds({"Resources": {}}) == fault_document.DEFAULT_CACHE_SECONDS
