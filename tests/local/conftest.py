"""Fixtures for the local runner's tests: one synthesis and one running local cloud per session.

Synthesizing costs ~5 s and starting the cloud a few more, so both happen once; tests keep
their data apart with unique keys instead. A test that needs its own cloud (the throwaway
stack) stops the shared one through `cloud_manager`, and the next test that asks for `cloud`
starts it again.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

for _name, _value in {
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "1",
    "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
    "JSII_DEPRECATED": "quiet",
}.items():
    os.environ.setdefault(_name, _value)

# Set in the test process before any worker starts: no function may ever see it.
LEAK_CANARY = "LOCAL_RUNNER_LEAK_CANARY"


# The test stack's cloud assembly, kept between runs like the app's (tests/conftest.py):
# synthesized again only when the stack, its handlers, the context or the CDK version change.
LOCAL_TEST_ASSEMBLY = Path(__file__).resolve().parents[2] / ".local" / "local-runner-test.out"
_ASSEMBLY_INPUTS = {"watch": {"include": ["tests/local/stack.py", "tests/local/fixture_functions/**"]}}


@pytest.fixture(scope="session")
def assembly_dir() -> Path:
    import shutil

    from local import synth_cache
    from tests.local.stack import CLI_CONTEXT, synth_test_assembly

    root = Path(__file__).resolve().parents[2]
    digest = synth_cache.fingerprint(root, _ASSEMBLY_INPUTS, ["tests/local/stack.py"], CLI_CONTEXT)
    outdir = LOCAL_TEST_ASSEMBLY

    def synthesize() -> None:
        shutil.rmtree(outdir, ignore_errors=True)  # no assets of an older synthesis left behind
        synth_test_assembly(str(outdir))

    synth_cache.synthesize_once(outdir, digest, synthesize)
    return outdir


class CloudManager:
    def __init__(self, assembly_dir: Path, work_dir: Path) -> None:
        self.assembly_dir = assembly_dir
        self.work_dir = work_dir
        self._cloud: Any = None

    def get(self) -> Any:
        if self._cloud is None:
            from local.cloud import LocalCloud

            self._cloud = LocalCloud.from_assembly(
                self.assembly_dir, redelivery_delay=0, max_concurrency=4, work_dir=self.work_dir
            ).start()
        return self._cloud

    def stop(self) -> None:
        if self._cloud is not None:
            self._cloud.stop()
            self._cloud = None


_MANAGERS: list[CloudManager] = []
_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Runs the tests that stop the shared cloud (`stops_the_shared_cloud`) after every other test
    of this directory, so that no test has to start it again after them (about 4 s of CPU each)."""
    ours = [index for index, item in enumerate(items) if _HERE in Path(item.path).parents]
    if not ours:
        return
    block = [items[index] for index in ours]
    ordered = [i for i in block if not i.get_closest_marker("stops_the_shared_cloud")]
    ordered += [i for i in block if i.get_closest_marker("stops_the_shared_cloud")]
    for index, item in zip(ours, ordered, strict=True):
        items[index] = item


@pytest.fixture(scope="session")
def cloud_manager(assembly_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudManager]:
    previous = os.environ.get(LEAK_CANARY)
    os.environ[LEAK_CANARY] = "the test process's secret"
    manager = CloudManager(assembly_dir, tmp_path_factory.mktemp("local"))
    _MANAGERS.append(manager)
    try:
        yield manager
    finally:
        manager.stop()
        _MANAGERS.remove(manager)
        if previous is None:
            os.environ.pop(LEAK_CANARY, None)
        else:
            os.environ[LEAK_CANARY] = previous


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stops the shared cloud after the last runner test, not at the end of the whole session.

    Tests elsewhere in the same process use moto in-process (mock_aws), which resets every
    backend; a cloud left running would only be in their way (and lose its state anyway).
    """
    if nextitem is None or _HERE not in Path(nextitem.path).parents:
        for manager in _MANAGERS:
            manager.stop()


@pytest.fixture
def cloud(cloud_manager: CloudManager) -> Any:
    return cloud_manager.get()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:12]
