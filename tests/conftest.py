"""Session fixtures: the app is synthesized once per test session (about 5 s and 0.5 GB)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
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

# The test stack's fault-document cache (tests/e2e/faults.py waits this long after a switch).
FAULTS_CACHE_SECONDS = 1.0
# Suites that share one running local cloud per test process: under pytest-xdist (make test:
# --dist loadgroup) each runs whole on one worker, in one go; every other test is its own unit of
# work for whichever worker is free. The scheduler below does the grouping itself: pytest-xdist's
# xdist_group markers have no effect with this pytest (it rewrites `item._nodeid`, which pytest 9
# no longer reads), so the two suites would spread over both workers, each starting its own cloud.
_ONE_WORKER_SUITES = ("e2e", "local")


def _suite_of(nodeid: str) -> str:
    parts = nodeid.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" and parts[1] in _ONE_WORKER_SUITES else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadgroup":
        return None  # pytest-xdist's own scheduler for the other modes
    from xdist.scheduler import LoadScopeScheduling

    class SharedCloudScheduling(LoadScopeScheduling):
        """LoadScopeScheduling whose scopes are the shared-cloud suites, else single tests; the
        largest scopes are handed out first, so the two suites start at once on two workers."""

        def _split_scope(self, nodeid: str) -> str:
            return _suite_of(nodeid)

    return SharedCloudScheduling(config, log)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS call, fake credentials, tracing off, no faults, nothing built yet."""
    from moto import mock_aws

    from shared import dependencies, faults
    from tests.support.aws import use_fake_aws

    use_fake_aws(monkeypatch)
    faults.reset_cache()
    dependencies.reset()
    # Keeping boto3's default session keeps its parsed service models: a client then costs ~1 ms, not ~40.
    with mock_aws(config={"core": {"reset_boto3_session": False}}):
        yield
    dependencies.reset()
    faults.reset_cache()


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

    from cdk.app import build

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
