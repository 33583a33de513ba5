"""Session fixtures: the app is synthesized once per test session (about 5 s and 0.5 GB)."""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from local.patches.answers import cache_response_keys
from local.patches.names import cache_name_conversion
from tests.support.stack_context import CONTEXT

# moto's response serializer, with the keys it tries per output member kept (byte-identical
# answers: tests/local/test_speed_patches.py); the local cloud installs the same patch.
cache_response_keys()
cache_name_conversion()  # moto's name conversion remembered per name (local/patches/names.py)

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
# --dist loadgroup) tests/local runs whole on one worker, and tests/e2e in up to MAX_E2E_GROUPS
# groups, each whole on one worker with a cloud of its own: the end-to-end tests mostly wait (task
# timeouts, batching windows, retries, redeliveries), so groups on more workers than cores overlap
# their waits. A module longer than E2E_UNIT_SECONDS is split test by test into parts of about that
# length (its tests are independent: every fixture is per test but the shared cloud), so that no
# one module is the suite's long pole. Every other test is its own unit of work for whichever
# worker is free. The scheduler below does the grouping itself: pytest-xdist's xdist_group
# markers have no effect with this pytest (it rewrites `item._nodeid`, which pytest 9 no longer reads).
_ONE_WORKER_SUITES = ("e2e", "local")
# Modules whose tests share a costly module-scoped fixture: each runs whole on one worker, so the
# fixture is built once (test_stages_and_monitoring synthesizes two stages: about 6 s of CPU).
MODULES_KEPT_WHOLE = ("tests/infra/test_stages_and_monitoring.py",)
# Seconds each end-to-end module took in one run (a loaded machine's, so only their ratios
# count); a module not listed counts as 30 s.
E2E_SECONDS = {
    "test_failures.py": 190,
    "test_lost_answers.py": 165,
    "test_fault_schedules.py": 85,
    "test_choreographed.py": 45,
    "test_bad_input.py": 30,
    "test_console.py": 30,
    "test_fuzz.py": 16,
    "test_malformed_events.py": 16,
    "test_log_hygiene.py": 14,
    "test_orchestrated.py": 14,
    "test_hot_items.py": 8,
    "test_stock_changes.py": 5,
}
E2E_UNIT_SECONDS = 45
MAX_E2E_GROUPS = 4


def _module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0].rsplit("/", 1)[-1]


def e2e_groups(tests: list[str], groups: int) -> dict[str, int]:
    """End-to-end test id -> group: modules split into parts of about E2E_UNIT_SECONDS (tests dealt
    out in turn), then the longest part first into the least loaded group."""
    by_module: dict[str, list[str]] = {}
    for nodeid in tests:
        by_module.setdefault(_module_of(nodeid), []).append(nodeid)
    unit_of: dict[str, str] = {}
    weight: dict[str, float] = {}
    for module, ids in by_module.items():
        seconds = E2E_SECONDS.get(module, 30)
        parts = max(1, min(len(ids), math.ceil(seconds / E2E_UNIT_SECONDS)))
        for index, nodeid in enumerate(ids):
            unit_of[nodeid] = f"{module}#{index % parts}"
            weight[unit_of[nodeid]] = seconds / parts
    load = [0.0] * max(1, groups)
    placed: dict[str, int] = {}
    for unit in sorted(weight, key=lambda name: (-weight[name], name)):
        placed[unit] = load.index(min(load))
        load[placed[unit]] += weight[unit]
    return {nodeid: placed[unit] for nodeid, unit in unit_of.items()}


def _suite_of(nodeid: str, e2e_group: dict[str, int]) -> str:
    module = nodeid.split("::", 1)[0]
    if module in MODULES_KEPT_WHOLE:
        return module
    parts = module.split("/")
    if len(parts) > 2 and parts[0] == "tests" and parts[1] in _ONE_WORKER_SUITES:
        return f"e2e-{e2e_group.get(nodeid, 0)}" if parts[1] == "e2e" else parts[1]
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
                e2e = [nodeid for nodeid in collection if nodeid.startswith("tests/e2e/")]
                # One worker keeps to the rest (tests/local, then the single tests).
                self._e2e_group = e2e_groups(e2e, min(MAX_E2E_GROUPS, workers - 1))
            super().schedule()

        def _split_scope(self, nodeid: str) -> str:
            return _suite_of(nodeid, getattr(self, "_e2e_group", {}))

    return SharedCloudScheduling(config, log)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leaves the test process's heap to the operating system at exit. A worker ends holding a
    local cloud's moto state, the app's constructs and the jsii runtime; the collector's passes
    over them at interpreter shutdown took about 1 s a process, and five workers ending together
    kept the run going 10 s after its last test. Frozen objects are still freed by reference
    counting as modules are torn down; only cyclic garbage is left unswept, and every file and
    process the tests open is closed by its fixture before this point."""
    import gc

    gc.freeze()


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
    stack: Any  # cdk.stack.OrderflowStack

    @functools.cached_property
    def template(self) -> Any:  # aws_cdk.assertions.Template, built for the tests that ask
        from aws_cdk.assertions import Template

        return Template.from_json(self.template_json)

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template_json["Resources"].items() if v["Type"] == resource_type}


ROOT = Path(__file__).resolve().parents[1]
# The test stack's cloud assembly, kept between runs (like `make local`'s cdk.out): synthesized
# again only when what `cdk watch` would react to, the context or the CDK version has changed.
TEST_ASSEMBLY = ROOT / ".local" / "test-cdk.out"


@pytest.fixture(scope="session")
def synthesized() -> Synthesized:
    """The app, built in this process (tests read its constructs), synthesized at most once per
    run: under pytest-xdist the first worker writes the cloud assembly and the others read it; an
    assembly of the same inputs from an earlier run is used as it is (local.synth_cache)."""
    from aws_cdk import App

    from cdk.app import build
    from local import synth_cache

    # The stack the tests run is a test stack (tests/support/stack_context.py): fault injection on
    # (a deployment's default is off), a 0.5 s fault-document cache rather than 2 s, and a 5 s saga
    # task timeout rather than 8 s. Construct paths are in the template's metadata, as `cdk synth`
    # writes them (ops.compare names functions by them).
    context = {**CONTEXT, "aws:cdk:enable-path-metadata": True}
    config = json.loads((ROOT / "cdk.json").read_text())
    digest = synth_cache.fingerprint(ROOT, config, ["tests/conftest.py::synthesized"], context)
    outdir = TEST_ASSEMBLY
    outdir.mkdir(parents=True, exist_ok=True)
    app, stack = build(App(outdir=str(outdir), context=context))

    def synthesize() -> None:
        app.synth()
        _prune_assets(outdir)

    synth_cache.synthesize_once(outdir, digest, synthesize)
    template_json = json.loads((outdir / f"{stack.stack_name}.template.json").read_text())
    return Synthesized(outdir=outdir, stack_name=stack.stack_name, template_json=template_json, stack=stack)


def _prune_assets(outdir: Path) -> None:
    """Removes the asset directories of earlier syntheses (each change of code adds new ones)."""
    import shutil

    referenced = {
        str(source.get("path"))
        for manifest in outdir.glob("*.assets.json")
        for entry in json.loads(manifest.read_text()).get("files", {}).values()
        for source in [entry.get("source", {})]
    }
    for path in outdir.glob("asset.*"):
        if path.name not in referenced:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
