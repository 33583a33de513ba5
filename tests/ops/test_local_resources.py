"""The local runner's resources file: what `python -m ops --endpoint-url ...` finds without options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.resources_file import write_resources_file
from ops.cli import build_parser, main
from ops.connection import connect, same_endpoint
from ops.resources import Resources
from tests.ops.world import REGION, create_world


def test_the_file_round_trips_with_where_the_cloud_is(tmp_path: Path) -> None:
    path = write_resources_file(
        tmp_path / "work" / "resources.json",
        {"OrdersTable1F8332C7": "Orderflow-OrdersTable1F8332C7", "Nothing00000000": None},
        stack="Orderflow",
        endpoint_url="http://127.0.0.1:5000",
        region="eu-west-1",
        api_url="http://127.0.0.1:3000",
    )
    resources = Resources.from_file(path)
    assert resources.physical_ids == {"OrdersTable1F8332C7": "Orderflow-OrdersTable1F8332C7"}
    assert (resources.endpoint_url, resources.region, resources.stack) == (
        "http://127.0.0.1:5000",
        "eu-west-1",
        "Orderflow",
    )
    assert json.loads(path.read_text())["api_url"] == "http://127.0.0.1:3000"
    assert [p.name for p in path.parent.iterdir()] == ["resources.json"]  # no partial file left


def test_endpoints_compare_by_scheme_host_and_port() -> None:
    assert same_endpoint("http://localhost:5000/", "http://127.0.0.1:5000")
    assert not same_endpoint("http://127.0.0.1:5000", "http://127.0.0.1:5001")


def test_the_runner_file_in_the_working_directory_is_used(
    moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = create_world(moto_server)
    world.sku("sku-a", available=8, reserved=2)
    world.confirmed("o-1")
    write_resources_file(
        tmp_path / ".local" / "resources.json", world.ids, stack="Orderflow", endpoint_url=moto_server, region=REGION
    )
    monkeypatch.chdir(tmp_path)
    assert main(["--endpoint-url", moto_server, "check", "--settled"]) == 0
    assert "no invariant violations" in capsys.readouterr().out


def test_a_file_of_another_endpoint_is_refused(
    moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    world = create_world(moto_server)
    stale = "http://127.0.0.1:1"
    write_resources_file(
        tmp_path / ".local" / "resources.json", world.ids, stack="Orderflow", endpoint_url=stale, region=REGION
    )
    monkeypatch.chdir(tmp_path)
    assert main(["--endpoint-url", moto_server, "check"]) == 2
    err = capsys.readouterr().err
    assert stale in err and "--resources" in err
    # Named explicitly, the same file is used as it is.
    assert main(["--endpoint-url", moto_server, "--resources", ".local/resources.json", "check"]) == 0


def test_no_file_and_no_stack_says_what_to_do(
    moto_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--endpoint-url", moto_server, "check"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "make local" in err and "--resources" in err


def test_the_runner_region_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = "http://127.0.0.1:9"
    write_resources_file(
        tmp_path / ".local" / "resources.json", {}, stack="Orderflow", endpoint_url=endpoint, region="eu-west-1"
    )
    monkeypatch.chdir(tmp_path)
    clients, _ = connect(build_parser().parse_args(["--endpoint-url", endpoint, "resources"]))
    assert clients.sqs.meta.region_name == "eu-west-1"
    clients, _ = connect(build_parser().parse_args(["--endpoint-url", endpoint, "--region", "us-west-2", "resources"]))
    assert clients.sqs.meta.region_name == "us-west-2"
