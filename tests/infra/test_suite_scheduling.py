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
