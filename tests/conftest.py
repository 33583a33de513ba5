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

from tests.support.stack_context import CONTEXT

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

# Suites that share one running local cloud per test process. Under pytest-xdist (make test:
# --dist loadgroup) tests/local runs whole on one worker, and tests/e2e in up to three groups of
# whole modules, each group whole on one worker with a cloud of its own: the end-to-end tests
# mostly wait (task timeouts, retries, redeliveries), so groups on more workers than cores
# overlap their waits. Every other test is its own unit of work for whichever worker is free.
# The scheduler below does the grouping itself: pytest-xdist's xdist_group markers have no
# effect with this pytest (it rewrites `item._nodeid`, which pytest 9 no longer reads).
_ONE_WORKER_SUITES = ("e2e", "local")
# Seconds each end-to-end module took in one run (a loaded machine's, so only their ratios
# count): the groups are filled greedily, longest first; a module not listed counts as 30 s.
E2E_SECONDS = {
    "test_failures.py": 250,
    "test_lost_answers.py": 200,
    "test_fault_schedules.py": 110,
    "test_fuzz.py": 110,
    "test_console.py": 80,
    "test_choreographed.py": 50,
    "test_log_hygiene.py": 45,
    "test_malformed_events.py": 40,
    "test_bad_input.py": 30,
    "test_orchestrated.py": 20,
    "test_hot_items.py": 16,
    "test_stock_changes.py": 11,
}
MAX_E2E_GROUPS = 3


def e2e_groups(modules: list[str], groups: int) -> dict[str, int]:
    """Module file name -> group, longest module first into the least loaded group."""
    load = [0.0] * max(1, groups)
    placed: dict[str, int] = {}
    for module in sorted(modules, key=lambda name: (-E2E_SECONDS.get(name, 30), name)):
        group = load.index(min(load))
        placed[module] = group
        load[group] += E2E_SECONDS.get(module, 30)
    return placed


def _suite_of(nodeid: str, e2e_group: dict[str, int]) -> str:
    parts = nodeid.split("::", 1)[0].split("/")
    if len(parts) > 2 and parts[0] == "tests" and parts[1] in _ONE_WORKER_SUITES:
        return f"e2e-{e2e_group.get(parts[-1], 0)}" if parts[1] == "e2e" else parts[1]
    return nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadgroup":
        return None  # pytest-xdist's own scheduler for the other modes
    from xdist.scheduler import LoadScopeScheduling

    workers = int(config.getvalue("numprocesses") or 1)

    class SharedCloudScheduling(LoadScopeScheduling):
        """LoadScopeScheduling whose scopes are tests/local, the end-to-end groups, else single
        tests; the largest scopes are handed out first, so the suites start at once."""

        def schedule(self) -> None:
            if self.collection is None and self.registered_collections:
                collection = next(iter(self.registered_collections.values()))
                modules = {n.split("::", 1)[0].rsplit("/", 1)[-1] for n in collection if n.startswith("tests/e2e/")}
                # One worker keeps to the rest (tests/local, then the single tests).
                self._e2e_group = e2e_groups(sorted(modules), min(MAX_E2E_GROUPS, workers - 1))
            super().schedule()

        def _split_scope(self, nodeid: str) -> str:
            return _suite_of(nodeid, getattr(self, "_e2e_group", {}))

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
    """The app, built in this process (tests read its constructs), synthesized once per run: under
    pytest-xdist the first worker writes the cloud assembly and the others read it."""
    import fcntl

    from aws_cdk import App
    from aws_cdk.assertions import Template

    from cdk.app import build

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    outdir = shared / "cdk.out"
    # The stack the tests run is a test stack (tests/support/stack_context.py): fault injection on
    # (a deployment's default is off), a 1 s fault-document cache rather than 2 s, and a 5 s saga
    # task timeout rather than 8 s.
    # Construct paths in the template's metadata, as `cdk synth` writes them (ops.compare names
    # functions by them).
    app, stack = build(App(outdir=str(outdir), context={**CONTEXT, "aws:cdk:enable-path-metadata": True}))
    with (shared / "cdk.out.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / "cdk.out.done").exists():
            app.synth()
            (shared / "cdk.out.done").touch()
    template_json = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    return Synthesized(
        outdir=outdir,
        stack_name=stack.stack_name,
        template_json=template_json,
        template=Template.from_json(template_json),
        stack=stack,
    )
