"""Session fixtures: the app is synthesized once per test session (about 5 s and 0.5 GB)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

# Randomized tests in CI (CI set, as .ci/run does): every run draws the same examples, so a
# random find never blocks a change and a real one fails every time. Elsewhere they explore.
# A test's own @settings/@seed still win (tests/e2e/test_fault_schedules.py keeps its seed and
# its example database). HYPOTHESIS_PROFILE=default explores even in CI (make fuzz).
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
if os.environ.get("HYPOTHESIS_PROFILE"):
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
elif os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
    settings.load_profile("ci")

_TESTS = Path(__file__).resolve().parent
# The test stack's fault-document cache (tests/e2e/faults.py waits this long after a switch).
FAULTS_CACHE_SECONDS = 1.0
# Suites that share one running local cloud per test process: under pytest-xdist (make test) each
# runs whole on one worker, in one go (--dist loadgroup); everything else spreads over the workers.
_ONE_WORKER_SUITES = ("e2e", "local")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(item.path)
        if _TESTS in path.parents and (suite := path.relative_to(_TESTS).parts[0]) in _ONE_WORKER_SUITES:
            item.add_marker(pytest.mark.xdist_group(suite))


@dataclass
class Synthesized:
    outdir: Path
    stack_name: str
    template_json: dict[str, Any]
    template: Any  # aws_cdk.assertions.Template
    stack: Any  # cdk.stack.OrderflowStack

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template_json["Resources"].items() if v["Type"] == resource_type}


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from app import build

    outdir = tmp_path_factory.mktemp("cdk.out")
    # The stack the tests run is a test stack: fault injection on (a deployment's default is off),
    # and each function process re-reads the fault document after 1 s rather than 2 s.
    context = {"orderflow:faultInjection": True, "orderflow:faultsCacheSeconds": FAULTS_CACHE_SECONDS}
    app, stack = build(App(outdir=str(outdir), context=context))
    app.synth()
    template_json = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    return Synthesized(
        outdir=outdir,
        stack_name=stack.stack_name,
        template_json=template_json,
        template=Template.from_json(template_json),
        stack=stack,
    )
