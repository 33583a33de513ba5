"""The local cloud is a generic CDK-on-moto runner: nothing in local/ imports the app it runs."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "local"


def _app_packages() -> set[str]:
    """The repository's own top-level modules and packages (local/ aside), and the functions' ones."""
    names = {path.stem for path in ROOT.glob("*.py")}
    names |= {path.name for path in ROOT.iterdir() if path.is_dir() and any(path.glob("*.py"))}
    names |= {path.name for path in (ROOT / "functions").iterdir() if path.is_dir()}
    names |= {"functions", "tests"}
    return names - {"local"}


def _imports(path: Path) -> set[str]:
    """The top-level module of every absolute import in the file, lazy ones in functions included."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_the_app_packages_are_known() -> None:
    assert {"ops", "cdk", "console", "functions", "orders", "shared", "app"} <= _app_packages()


def test_local_imports_nothing_of_the_app() -> None:
    app = _app_packages()
    found = {str(path.relative_to(ROOT)): sorted(_imports(path) & app) for path in sorted(LOCAL.rglob("*.py"))}
    assert {path: modules for path, modules in found.items() if modules} == {}
