"""`python -m ops`: exit codes and output, in-process on moto and against a moto server endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ops.cli import main
from tests.ops.world import World, create_world

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def resources_file(world: World, tmp_path: Path) -> Path:
    return world.write_resources(tmp_path / "resources.json")


def test_check_passes_on_a_consistent_system(resources_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--resources", str(resources_file)]) == 0
    assert "no invariant violations" in capsys.readouterr().out


def test_check_exits_1_and_lists_violations(
    world: World, resources_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world.sku("sku-a", available=1, reserved=0, stocked=3)
    world.order("o-1", "PENDING")
    assert main(["--resources", str(resources_file), "check", "--settled"]) == 1
    out = capsys.readouterr().out
    assert "STOCK_NOT_CONSERVED" in out and "LOST" in out


def test_check_json(world: World, resources_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world.order("o-1", "PENDING", flow="choreographed")
    world.send("InventoryEventsDeadLetterQueue", {"x": 1})
    assert main(["check", "--resources", str(resources_file), "--json", "--settled"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["messages"]["inventory (dlq)"] == 1
    assert report["counts"]["orders PENDING"] == 1


def test_redrive_needs_names_or_all(resources_file: Path) -> None:
    assert main(["redrive", "--resources", str(resources_file)]) == 2
    assert main(["redrive", "inventory", "--all", "--resources", str(resources_file)]) == 2
    assert main(["redrive", "nope", "--resources", str(resources_file)]) == 2


def test_redrive_moves_and_reports(world: World, resources_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world.send("ShippingEventsDeadLetterQueue", {"x": 1})
    assert main(["redrive", "--all", "--dry-run", "--resources", str(resources_file)]) == 0
    assert world.depth("ShippingEventsDeadLetterQueue") == 1
    assert main(["redrive", "shipping", "--resources", str(resources_file)]) == 0
    assert world.depth("ShippingEventsDeadLetterQueue") == 0
    assert world.depth("ShippingEventsQueue") == 1
    assert "shipping" in capsys.readouterr().out


def test_replay(resources_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["replay", "--since", "2020-01-01T00:00:00Z", "--until", "2040-01-01", "--resources", str(resources_file)]
    assert main(args) == 0
    assert "COMPLETED" in capsys.readouterr().out


def test_resources_lists_everything_it_needs(world: World, tmp_path: Path) -> None:
    assert main(["resources", "--resources", str(world.write_resources(tmp_path / "r.json"))]) == 0
    incomplete = {k: v for k, v in world.ids.items() if not k.startswith("ShippingTable")}
    (tmp_path / "partial.json").write_text(json.dumps(incomplete))
    assert main(["resources", "--resources", str(tmp_path / "partial.json")]) == 1
    assert main(["check", "--resources", str(tmp_path / "partial.json")]) == 2  # named, not a traceback


def test_a_missing_resources_file_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["check", "--resources", str(tmp_path / "absent.json")]) == 2


# --- against an endpoint, as with the local cloud ----------------------------------------------


def test_the_cli_runs_against_an_endpoint(moto_server: str, tmp_path: Path) -> None:
    world = create_world(moto_server)
    world.sku("sku-a", available=8, reserved=2)
    world.confirmed("o-1")
    world.order("o-2", "PENDING", flow="choreographed")
    world.send("PaymentsEventsDeadLetterQueue", {"x": 1})
    resources = world.write_resources(tmp_path / "resources.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # placeholders come from --endpoint-url

    def ops(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "ops", "--endpoint-url", moto_server, "--resources", str(resources), *args]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)

    checked = ops("check", "--settled", "--json")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["counts"]["messages waiting"] == 1

    redriven = ops("redrive", "payments")
    assert redriven.returncode == 0, redriven.stderr
    assert world.depth("PaymentsEventsDeadLetterQueue") == 0
    assert world.depth("PaymentsEventsQueue") == 1

    world.messages("PaymentsEventsQueue")  # consumed: now nothing can move o-2
    world.clients.sqs.purge_queue(QueueUrl=world.queue_url("PaymentsEventsQueue"))
    lost = ops("check", "--settled", "--json")
    assert lost.returncode == 1
    assert [(v["kind"], v["subject"]) for v in json.loads(lost.stdout)["violations"]] == [("LOST", "o-2")]
