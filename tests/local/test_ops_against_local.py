"""docs/operations.md, followed literally: `make local`, an order, then `python -m ops` against it.

The runner runs as `make local` runs it (`python -m local serve`, here on the session's
assembly and a free port), and the toolkit runs as an operator would: `make check
ENDPOINT=...` and `python -m ops --endpoint-url ...`, each a process of its own.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from ops.topology import DEAD_LETTER_QUEUES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
# Wide enough that rich does not fold the tables' cells.
ENV = {**os.environ, "COLUMNS": "200", "PYTHONPATH": str(REPO)}
STARTUP_SECONDS = 120
STOP_SECONDS = 60


def _wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(interval)


class Served:
    """`python -m local serve` in a subprocess; its output goes to a file (a pipe could fill up)."""

    def __init__(self, assembly: Path, work_dir: Path, log: Path) -> None:
        self.work_dir = work_dir
        self.log = log
        self.resources_file = work_dir / "resources.json"
        command = [sys.executable, "-m", "local", "serve", "--no-synth", "--assembly", str(assembly)]
        command += ["--port", "0", "--work-dir", str(work_dir), "--hint", "make check ENDPOINT={endpoint}"]
        with log.open("w") as out:
            self.process = subprocess.Popen(command, cwd=REPO, env=ENV, stdout=out, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def ready(self) -> dict[str, Any] | None:
        if self.process.poll() is not None:
            raise AssertionError(f"the runner exited with {self.process.returncode}:\n{self.output()}")
        if "Ctrl-C stops everything" not in self.output() or not self.resources_file.exists():
            return None
        document: dict[str, Any] = json.loads(self.resources_file.read_text())
        return document

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


@pytest.fixture
def served(synthesized: Any, tmp_path: Path) -> Iterator[Served]:
    runner = Served(synthesized.outdir, tmp_path / ".local", tmp_path / "serve.log")
    try:
        yield runner
    finally:
        runner.kill()


def _run(command: list[str], cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout, check=False)


def test_ops_against_a_running_local_cloud(served: Served) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    started = datetime.now(UTC)
    document = _wait_for(served.ready, STARTUP_SECONDS, "the local cloud to be up")
    endpoint, api = document["endpoint_url"], document["api_url"]
    printed = served.output()
    assert endpoint in printed and api in printed  # the URLs the docs tell you to copy
    assert f"make check ENDPOINT={endpoint}" in printed
    assert document["resources"] and document["stack"] == "Orderflow"

    # An order, as the README places one; it is done once shipping has announced its shipment.
    http = requests.Session()
    sku = f"sku-{uuid.uuid4().hex[:8]}"
    stocked = http.put(f"{api}/inventory/{sku}", json={"available": 5, "price_cents": 1999}, timeout=60)
    assert stocked.status_code == 200, stocked.text
    body = {
        "customer_id": "c-42",
        "flow": "orchestrated",
        "items": [{"sku": sku, "quantity": 2}],
        "payment": {"token": "tok_visa"},
    }
    placed = http.post(f"{api}/orders", json=body, headers={"Idempotency-Key": uuid.uuid4().hex}, timeout=60)
    # 201 CONFIRMED, or 202 PENDING when the saga outlives the API's budget (a slow first run).
    assert placed.status_code in (201, 202), placed.text
    order_id = placed.json()["order_id"]

    def confirmed() -> bool:
        order = http.get(f"{api}/orders/{order_id}", timeout=30).json()
        assert order["status"] in ("PENDING", "CONFIRMED"), order
        return bool(order["status"] == "CONFIRMED")

    def shipped() -> bool:
        timeline = http.get(f"{api}/orders/{order_id}/timeline", timeout=30).json()
        return "ShipmentScheduled" in [event["detail_type"] for event in timeline["events"]]

    _wait_for(confirmed, 60, "the order's confirmation", interval=0.5)
    _wait_for(shipped, 60, "the order's shipment", interval=0.5)
    resources = str(served.resources_file)

    # `make check ENDPOINT=...`, the real target (`-o`: never reinstall the venv in a test).
    checked = _run(["make", "-o", ".venv/.installed", "check", f"ENDPOINT={endpoint}", f"RESOURCES={resources}"])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no invariant violations" in checked.stdout
    assert any(line.split() == ["│", "orders", "│", "1", "│"] for line in checked.stdout.splitlines()), checked.stdout

    ops = [sys.executable, "-m", "ops", "--endpoint-url", endpoint]
    settled = _run([*ops, "check", "--settled", "--json", "--resources", resources])
    assert settled.returncode == 0, settled.stdout + settled.stderr
    report = json.loads(settled.stdout)
    assert report["ok"] is True and report["violations"] == []
    assert report["counts"]["orders"] == 1 and report["counts"]["orders CONFIRMED"] == 1
    assert report["counts"]["shipments"] == 1

    redriven = _run([*ops, "--resources", resources, "redrive", "--all", "--dry-run"])
    assert redriven.returncode == 0, redriven.stdout + redriven.stderr
    assert "redrive (dry run)" in redriven.stdout
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in redriven.stdout.splitlines() if "│" in line]
    rows = {row[0]: row[2:] for row in cells if len(row) == 5}
    assert set(rows) == set(DEAD_LETTER_QUEUES), redriven.stdout
    assert all(row == ["0", "0", "0"] for row in rows.values()), redriven.stdout  # waiting, moved, failed

    # No --resources: from the directory `make local` ran in, the toolkit finds the runner's file.
    listed = _run([*ops, "resources"], cwd=served.work_dir.parent)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "missing" not in listed.stdout and "OrdersTable1F8332C7" in listed.stdout

    since = (started - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    replayed = _run([*ops, "replay", "--since", since, "--poll", "0.5", "--resources", resources])
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert "COMPLETED" in replayed.stdout

    # Ctrl-C: everything stops, the runner exits 0 and takes its resources file with it.
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(timeout=STOP_SECONDS) == 0, served.output()
    assert "stopped" in served.output()
    assert not served.resources_file.exists()
