"""`python -m local serve` synthesizes again only when the app's inputs changed since its last synthesis."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from rich.console import Console

from local import synth_cache
from local.cli import synthesize

# A stand-in CDK app: writes a manifest into CDK_OUTDIR and counts its runs.
APP = """
import os, pathlib
out = pathlib.Path(os.environ["CDK_OUTDIR"]); out.mkdir(parents=True, exist_ok=True)
(out / "manifest.json").write_text("{}")
runs = pathlib.Path("runs"); runs.write_text(str(int(runs.read_text() or 0) + 1) if runs.exists() else "1")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "handler.py").write_text("x = 1\n")
    (tmp_path / "src" / "notes.txt").write_text("not watched\n")
    config = {
        "app": f"{sys.executable} app.py",
        "watch": {"include": ["app.py", "src/**"], "exclude": ["**/*.txt"]},
        "context": {"stage": "dev"},
    }
    (tmp_path / "cdk.json").write_text(json.dumps(config))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _synth(project: Path, reuse: bool = True) -> int:
    synthesize(project / "cdk.out", None, Console(quiet=True), reuse=reuse)
    return int((project / "runs").read_text())


def test_an_unchanged_app_is_not_synthesized_again(project: Path) -> None:
    assert _synth(project) == 1
    assert _synth(project) == 1
    assert (project / "cdk.out" / synth_cache.FINGERPRINT_FILE).is_file()
    # a file the app is not watched for changes nothing
    (project / "src" / "notes.txt").write_text("edited\n")
    assert _synth(project) == 1


@pytest.mark.parametrize(
    "change",
    ["a watched file", "a new watched file", "the context", "the environment", "a forced synthesis"],
)
def test_any_change_to_the_inputs_synthesizes_again(
    project: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    assert _synth(project) == 1
    reuse = True
    if change == "a watched file":
        (project / "src" / "handler.py").write_text("x = 2\n")
    elif change == "a new watched file":
        (project / "src" / "more.py").write_text("y = 1\n")
    elif change == "the context":
        config = json.loads((project / "cdk.json").read_text())
        config["context"]["stage"] = "prod"
        (project / "cdk.json").write_text(json.dumps(config))
    elif change == "the environment":
        monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-1")
    else:
        reuse = False
    assert _synth(project, reuse=reuse) == 2


def test_a_failed_or_missing_assembly_is_never_taken_as_current(project: Path) -> None:
    assert _synth(project) == 1
    (project / "cdk.out" / "manifest.json").unlink()
    assert _synth(project) == 2


def test_without_watch_in_cdk_json_every_run_synthesizes(project: Path) -> None:
    config = json.loads((project / "cdk.json").read_text())
    del config["watch"]
    (project / "cdk.json").write_text(json.dumps(config))
    assert _synth(project) == 1
    assert _synth(project) == 2
    assert not (project / "cdk.out" / synth_cache.FINGERPRINT_FILE).exists()


def test_synthesize_once_runs_only_for_new_inputs(tmp_path: Path) -> None:
    assembly = tmp_path / "out"
    runs: list[str] = []

    def synthesize() -> None:
        assembly.mkdir(exist_ok=True)
        (assembly / "manifest.json").write_text("{}")
        runs.append("synth")

    assert synth_cache.synthesize_once(assembly, "digest-1", synthesize)
    assert not synth_cache.synthesize_once(assembly, "digest-1", synthesize)
    assert synth_cache.synthesize_once(assembly, "digest-2", synthesize)
    assert synth_cache.synthesize_once(assembly, None, synthesize)  # nothing fingerprinted: always
    assert runs == ["synth"] * 3
