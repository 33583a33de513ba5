"""cdk-nag and cfn-lint over the synthesized app."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest


def test_cdk_nag_has_no_unacknowledged_findings(synthesized):
    # Synthesis runs the AwsSolutions plugin and fails on any unacknowledged error, so reaching
    # here means zero; the report of the plugin run must say so too.
    report = synthesized.outdir / "validation-report.json"
    if report.exists():
        assert '"status": "failure"' not in report.read_text()


def test_cdk_nag_fails_synthesis_without_the_acknowledgments(tmp_path, monkeypatch):
    """The nag gate is real: drop the acknowledgments and synthesis must fail with findings."""
    from aws_cdk import App

    from cdk import app as orderflow_app

    monkeypatch.setattr(orderflow_app, "acknowledge", lambda stack: None)
    built, _ = orderflow_app.build(App(outdir=str(tmp_path)))
    with pytest.raises(Exception, match="ValidationFailed"):
        built.synth()
    report = (tmp_path / "validation-report.json").read_text()
    for rule in ("AwsSolutions-IAM5", "AwsSolutions-COG4", "AwsSolutions-SQS3"):
        assert rule in report


def test_cfn_lint_finds_no_errors(synthesized):
    exe = shutil.which("cfn-lint", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert exe, "cfn-lint is installed with the dev requirements"
    template = synthesized.outdir / f"{synthesized.stack_name}.template.json"
    result = subprocess.run(
        [exe, "--format", "parseable", "--ignore-checks", "W3005", "--", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ":E" in line]
    assert not errors, "\n".join(errors)
    assert result.returncode in (0, 4, 8), result.stdout + result.stderr  # 4/8 = warnings/info only
