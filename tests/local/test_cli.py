"""`python -m local`: serves the assembly, prints the endpoints, stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]


def test_serve_prints_endpoints_and_stops_cleanly_on_ctrl_c(assembly_dir: Path, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local",
            "serve",
            "--no-synth",
            "--assembly",
            str(assembly_dir),
            "--port",
            "0",
            "--work-dir",
            str(tmp_path),
            "--no-prewarm",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert process.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + 60
    try:
        for line in process.stdout:
            output.append(line)
            if "Ctrl-C stops everything" in line or time.monotonic() > deadline:
                break
        text = "".join(output)
        api_url = re.search(r"API\s*│\s*(http://127\.0\.0\.1:\d+)", text)
        moto_url = re.search(r"AWS endpoint \(moto\)\s*│\s*(http://127\.0\.0\.1:\d+)", text)
        assert api_url and moto_url, text
        assert "/items/{id}" in text and "curl -s" in text and "dynamodb scan --table-name" in text
        response = requests.get(f"{api_url.group(1)}/items/1", timeout=30)
        assert response.status_code == 200
        worker_pid = response.json()["pid"]
    finally:
        process.send_signal(signal.SIGINT)
        remaining, _ = process.communicate(timeout=30)
    assert process.returncode == 0, remaining
    assert "stopped" in remaining
    # The function's execution environment went with it.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and Path(f"/proc/{worker_pid}").exists():
        time.sleep(0.05)
    assert not Path(f"/proc/{worker_pid}").exists()
