"""How make test deals tests out to its workers (tests/conftest.py's scheduler scopes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def root_conftest(pytestconfig: pytest.Config) -> Any:
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    return next(p for p in pytestconfig.pluginmanager.get_plugins() if getattr(p, "__file__", None) == str(path))


def test_a_module_kept_whole_is_one_scope_and_other_unit_tests_are_their_own(root_conftest: Any) -> None:
    whole = "tests/infra/test_stages_and_monitoring.py"
    assert whole in root_conftest.MODULES_KEPT_WHOLE
    scopes = {root_conftest._suite_of(f"{whole}::test_{name}", {}) for name in ("a", "b", "c")}
    assert scopes == {whole}
    single = "tests/infra/test_stack.py::test_a"
    assert root_conftest._suite_of(single, {}) == single
    assert root_conftest._suite_of("tests/local/test_api.py::test_x", {}) == "local"
    assert root_conftest._suite_of("tests/e2e/test_fuzz.py::test_x", {"tests/e2e/test_fuzz.py::test_x": 2}) == "e2e-2"


def test_every_module_kept_whole_exists(root_conftest: Any) -> None:
    root = Path(__file__).resolve().parents[2]
    assert all((root / module).is_file() for module in root_conftest.MODULES_KEPT_WHOLE)


def test_tests_that_stop_the_shared_cloud_run_after_the_rest_of_tests_local() -> None:
    from types import SimpleNamespace

    from tests.local import conftest as local_conftest

    here = Path(local_conftest.__file__).parent

    def item(path: Path, stops: bool = False) -> Any:
        marker = object() if stops else None
        return SimpleNamespace(path=path, name=path.name, get_closest_marker=lambda name, m=marker: m)

    unit = item(here.parent / "unit" / "test_a.py")
    compare, api, cli = (
        item(here / "test_compare.py", stops=True),
        item(here / "test_api.py"),
        item(here / "test_cli.py"),
    )
    e2e = item(here.parent / "e2e" / "test_b.py")
    items = [unit, api, compare, cli, e2e]
    local_conftest.pytest_collection_modifyitems(items)
    assert items == [unit, api, cli, compare, e2e]  # only tests/local's own places are reordered
