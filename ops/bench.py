"""`python -m ops.bench` (make bench): figures for the orchestrated path on the local cloud.

1. Throughput and latency: a fixed workload of orchestrated orders through the local REST API
   (HTTP -> orders API -> Express saga -> inventory, payments, orders), N clients in parallel.
2. Cold start of every function: importing and initialising its handler module in a fresh
   process, with exactly its environment, beside a bare `import boto3` baseline; median of runs.

Results print as tables and are written to docs/benchmarks.md (and .bench/results.json).
They measure orderflow's code on moto on this machine, not AWS: use them to compare changes.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
RESULTS_MD = ROOT / "docs" / "benchmarks.md"
RESULTS_JSON = ROOT / ".bench" / "results.json"

# Runs in a fresh interpreter: time the handler module's import (its cold start: imports,
# configuration, clients) and report peak memory.
_PROBE = """
import json, sys, time, importlib
started = time.perf_counter()
importlib.import_module(sys.argv[1])
elapsed = time.perf_counter() - started
# VmHWM is this process image's peak (ru_maxrss would carry the parent's peak across exec).
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": elapsed, "max_rss_kb": hwm}))
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def run_workload(api_url: str, orders: int, clients: int, console: Console) -> dict[str, Any]:
    http = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=clients)
    http.mount("http://", adapter)
    skus = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(clients)]
    for sku in skus:
        response = http.put(f"{api_url}/inventory/{sku}", json={"available": orders, "price_cents": 1250})
        response.raise_for_status()
    # Warm every function once so the figures are for warm paths (cold starts are measured apart).
    warm = http.post(f"{api_url}/orders", json=_order(skus[0]), timeout=60)
    assert warm.status_code == 201, warm.text

    latencies: list[float] = []
    statuses: dict[int, int] = {}

    def place(i: int) -> tuple[int, float]:
        started = time.perf_counter()
        response = http.post(f"{api_url}/orders", json=_order(skus[i % len(skus)]), timeout=60)
        return response.status_code, time.perf_counter() - started

    started = time.perf_counter()
    with Progress(console=console, transient=True) as progress, ThreadPoolExecutor(clients) as pool:
        task = progress.add_task(f"{orders} orchestrated orders, {clients} clients", total=orders)
        for status, latency in pool.map(place, range(orders)):
            latencies.append(latency)
            statuses[status] = statuses.get(status, 0) + 1
            progress.advance(task)
    wall = time.perf_counter() - started
    return {
        "orders": orders,
        "clients": clients,
        "seconds": wall,
        "orders_per_second": orders / wall,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
        "statuses": statuses,
    }


def _order(sku: str) -> dict[str, Any]:
    return {
        "customer_id": "bench",
        "items": [{"sku": sku, "quantity": 1}],
        "payment": {"token": "tok_visa"},
        "flow": "orchestrated",
    }


def _probe(module: str, cwd: Path, env: dict[str, str]) -> dict[str, float]:
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _PROBE, module], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{module}: {completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def cold_starts(cloud: Any, runs: int, console: Console) -> list[dict[str, Any]]:
    pools = sorted(cloud.functions.values(), key=lambda p: p.spec.handler)
    rows = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("cold starts", total=(len(pools) + 1) * runs)
        any_pool = pools[0]
        env = any_pool.environment("bench")
        baseline = []
        for _ in range(runs):
            baseline.append(_probe("boto3", any_pool.spec.code_dir or ROOT, env))
            progress.advance(task)
        rows.append(_row("import boto3 (baseline)", baseline))
        for pool in pools:
            module = pool.spec.handler.rsplit(".", 1)[0]
            samples = []
            for _ in range(runs):
                samples.append(_probe(module, pool.spec.code_dir or ROOT, pool.environment("bench")))
                progress.advance(task)
            rows.append(_row(module, samples))
    return rows


def _row(name: str, samples: list[dict[str, float]]) -> dict[str, Any]:
    return {
        "module": name,
        "median_ms": statistics.median(s["seconds"] for s in samples) * 1000,
        "min_ms": min(s["seconds"] for s in samples) * 1000,
        "max_rss_mb": max(s["max_rss_kb"] for s in samples) / 1024,
    }


# The sections this command writes; every other section of docs/benchmarks.md is kept as it is.
OWN_SECTIONS = ("## Orchestrated path", "## Cold start per function")


def other_sections(path: Path) -> str:
    """The sections of an existing benchmarks page that other commands wrote (chaos, compare, ...)."""
    if not path.exists():
        return ""
    kept: list[str] = []
    keeping = False
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            keeping = not line.startswith(OWN_SECTIONS)
        if keeping:
            kept.append(line)
    return ("\n" + "\n".join(kept) + "\n") if kept else ""


def render(results: dict[str, Any]) -> tuple[Table, Table, str]:
    w = results["workload"]
    throughput = Table(title="orchestrated path through the local API")
    for column in ("orders", "clients", "orders/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "statuses"):
        throughput.add_column(column, justify="right")
    statuses = ", ".join(f"{k}×{v}" for k, v in sorted(w["statuses"].items()))
    throughput.add_row(
        str(w["orders"]),
        str(w["clients"]),
        f"{w['orders_per_second']:.1f}",
        f"{w['p50_ms']:.0f}",
        f"{w['p95_ms']:.0f}",
        f"{w['p99_ms']:.0f}",
        f"{w['max_ms']:.0f}",
        statuses,
    )
    cold = Table(title="cold start: handler import + init in a fresh process")
    for column in ("module", "median ms", "min ms", "vs boto3", "peak RSS MB"):
        cold.add_column(column, justify="right" if column != "module" else "left")
    base = results["cold_starts"][0]["median_ms"]
    for row in results["cold_starts"]:
        cold.add_row(
            row["module"],
            f"{row['median_ms']:.0f}",
            f"{row['min_ms']:.0f}",
            f"{row['median_ms'] / base:.1f}×",
            f"{row['max_rss_mb']:.0f}",
        )
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m ops.bench`); the figures are orderflow's code on the local",
        "cloud (moto) on one machine, for comparing changes, not a prediction of AWS latency.",
        "",
        f"Measured {results['measured_at']} on {results['machine']}, Python {results['python']}.",
        "",
        f"## Orchestrated path: {w['orders']} orders, {w['clients']} parallel clients",
        "",
        "| orders/s | p50 ms | p95 ms | p99 ms | max ms | responses |",
        "|---:|---:|---:|---:|---:|---|",
        f"| {w['orders_per_second']:.1f} | {w['p50_ms']:.0f} | {w['p95_ms']:.0f} | {w['p99_ms']:.0f} | "
        f"{w['max_ms']:.0f} | {statuses} |",
        "",
        "Each order: HTTP → orders API → StartSyncExecution → RecordOrder, ReserveInventory,",
        "CalculateTax, AuthorizePayment, CapturePayment, ConfirmOrder (the outbox relay announces it).",
        "",
        "## Cold start per function (import and init in a fresh process, median)",
        "",
        "| handler module | median ms | min ms | vs `import boto3` | peak RSS MB |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in results["cold_starts"]:
        lines.append(
            f"| `{row['module']}` | {row['median_ms']:.0f} | {row['min_ms']:.0f} | "
            f"{row['median_ms'] / base:.1f}× | {row['max_rss_mb']:.0f} |"
        )
    return throughput, cold, "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="orders in the workload (default 200)")
    parser.add_argument("--clients", type=int, default=4, help="parallel clients (default 4)")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per cold-start figure (default 5)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    console = Console()

    from local.cli import synthesize
    from local.cloud import LocalCloud

    with tempfile.TemporaryDirectory() as assembly:
        synthesize(Path(assembly), None, console)
        with console.status("starting the local cloud"):
            cloud = LocalCloud.from_assembly(assembly, api_port=0, max_concurrency=args.clients, prewarm=True)
            cloud.start()
        try:
            workload = run_workload(cloud.api_url, args.orders, args.clients, console)
            cold = cold_starts(cloud, args.runs, console)
        finally:
            cloud.stop()
    results = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
        "python": platform.python_version(),
        "workload": workload,
        "cold_starts": cold,
    }
    throughput, cold_table, markdown = render(results)
    console.print(throughput)
    console.print(cold_table)
    if not args.no_write:
        RESULTS_JSON.parent.mkdir(exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(results, indent=2) + "\n")
        RESULTS_MD.write_text(markdown + other_sections(RESULTS_MD))
        console.print(f"wrote {RESULTS_MD.relative_to(ROOT)} and {RESULTS_JSON.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
