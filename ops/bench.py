"""`python -m ops.bench` (make bench): the speed figures of issue "Fast", measured in one run.

1. `make local`: seconds from the command to the first API answer, synthesizing into a fresh
   directory, then again with nothing changed (the assembly is reused).
2. The local cloud's throughput and latency: orchestrated orders through the local REST API
   (HTTP -> orders API -> Express saga -> its tasks), N clients in parallel; then choreographed
   orders, each followed to its terminal status (the decision's own `updated_at`, not the poll).
3. Every handler's cold start against `import boto3` + one client, in the same run (ops.coldstart).
4. With `--suite`, the wall time of the whole test suite (`make test`'s pytest command).

Each figure is printed beside the previous run's (docs/benchmarks.json, committed) with the
change and the goal, and written to docs/benchmarks.md. They measure orderflow's code on moto on
this machine, not AWS: use them to compare changes (a regression shows as a worse change).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import socket
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

from ops.bench_moto import cpu_by_operation, moto_request_cpu_on_a_scratch_table, process_cpu_seconds
from ops.bench_report import RESULTS_JSON, RESULTS_MD, summary, write
from ops.checker.model import TERMINAL
from ops.compare.model import percentile

ROOT = Path(__file__).resolve().parent.parent


def _order(sku: str, flow: str) -> dict[str, Any]:
    return {
        "customer_id": "bench",
        "items": [{"sku": sku, "quantity": 1}],
        "payment": {"token": "tok_visa"},
        "flow": flow,
    }


def _stock(http: requests.Session, api_url: str, clients: int, orders: int) -> list[str]:
    skus = [f"bench-{uuid.uuid4().hex[:8]}" for _ in range(clients)]
    for sku in skus:
        http.put(f"{api_url}/inventory/{sku}", json={"available": orders + 10, "price_cents": 1250}).raise_for_status()
    return skus


def _decided_at(http: requests.Session, api_url: str, order_id: str, timeout: float) -> tuple[str, float]:
    """The order's terminal status and the moment it was written (epoch seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = http.get(f"{api_url}/orders/{order_id}", timeout=30)
        if got.status_code == 200 and got.json()["status"] in TERMINAL:
            body = got.json()
            return body["status"], datetime.fromisoformat(body["updated_at"].replace("Z", "+00:00")).timestamp()
        time.sleep(0.2)
    raise TimeoutError(f"order {order_id} has no terminal status after {timeout:.0f} s")


WARM_ORDERS_PER_CLIENT = 3


def run_workload(
    api_url: str, flow: str, orders: int, clients: int, console: Console, moto_here: bool = False
) -> dict[str, Any]:
    """`orders` orders of `flow` from `clients` parallel clients, after warm ones; `moto_here` (the
    local cloud runs in this process) adds moto's CPU per order, operation by operation."""
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=clients))
    skus = _stock(http, api_url, clients, orders + WARM_ORDERS_PER_CLIENT * clients)

    def place(i: int) -> tuple[str, float]:
        started_wall, started = time.time(), time.perf_counter()
        response = http.post(f"{api_url}/orders", json=_order(skus[i % len(skus)], flow), timeout=60)
        if flow == "orchestrated" or response.status_code != 202:
            return str(response.status_code), time.perf_counter() - started
        status, decided = _decided_at(http, api_url, response.json()["order_id"], 120)
        return status, decided - started_wall

    # Warm paths first, at the workload's concurrency: every function on them scales out to as many
    # execution environments as the clients need before the clock starts (cold starts are measured
    # apart, below), as a deployment serving steady traffic would have.
    with ThreadPoolExecutor(clients) as pool, console.status(f"warming the {flow} path at {clients} clients"):
        warm = list(pool.map(place, range(orders, orders + WARM_ORDERS_PER_CLIENT * clients)))
    assert all(outcome in ("201", "CONFIRMED") for outcome, _ in warm), warm

    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    counting: contextlib.AbstractContextManager[dict[str, list[float]]] = (
        cpu_by_operation() if moto_here else contextlib.nullcontext({})
    )
    cpu_before = process_cpu_seconds()
    started = time.perf_counter()
    with (
        counting as by_operation,
        Progress(console=console, transient=True) as progress,
        ThreadPoolExecutor(clients) as pool,
    ):
        task = progress.add_task(f"{orders} {flow} orders, {clients} clients", total=orders)
        for outcome, latency in pool.map(place, range(orders)):
            latencies.append(latency)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            progress.advance(task)
    wall = time.perf_counter() - started
    cpu = process_cpu_seconds() - cpu_before
    return {
        # This process's CPU per order: the local cloud's runner when it runs here (moto, the
        # gateway, the pollers, the Step Functions interpreter), plus the clients' own requests.
        "process_cpu_ms_per_order": cpu / orders * 1000,
        "flow": flow,
        "orders": orders,
        "clients": clients,
        "seconds": wall,
        "orders_per_second": orders / wall,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies) * 1000,
        "outcomes": outcomes,
        "moto_by_operation": {
            name: {"cpu_ms_per_order": cpu_seconds / orders * 1000, "requests_per_order": count / orders}
            for name, (cpu_seconds, count) in sorted(by_operation.items(), key=lambda entry: -entry[1][0])
        },
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve_once(command: list[str], port: int, console: Console, what: str) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        with console.status(f"make local ({what}): waiting for the first API answer"):
            while process.poll() is None:
                try:
                    requests.get(f"http://127.0.0.1:{port}/orders/bench-ready", timeout=5)
                    return time.perf_counter() - started
                except requests.ConnectionError:
                    time.sleep(0.05)
        raise RuntimeError(f"`python -m local serve` exited with {process.returncode} before serving")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def time_to_serve(console: Console) -> tuple[float, float]:
    """`make local`'s command, timed from its start to the API's first answer, then stopped: once
    into a fresh assembly directory (it synthesizes), then again with nothing changed (it reuses it)."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as scratch:
        command = [sys.executable, "-m", "local", "serve", "--port", str(port)]
        command += ["--assembly", f"{scratch}/cdk.out", "--work-dir", f"{scratch}/work"]
        command += ["--mount", "/_console=console.mount:mount"]
        return _serve_once(command, port, console, "first"), _serve_once(command, port, console, "again")


def time_suite(console: Console) -> float:
    """The whole suite as `make test` runs it (the virtual environment present), in seconds."""
    workers = os.environ.get("TEST_WORKERS", "2")
    command = [sys.executable, "-m", "pytest", "-n", workers, "--dist", "loadgroup", "-q", "-p", "no:randomly"]
    console.print(f"running the test suite: {' '.join(command[1:])}")
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise RuntimeError(f"the test suite failed (exit code {completed.returncode}): its time is not a figure")
    return time.perf_counter() - started


def machine_loop_ms(repeats: int = 5) -> float:
    """The machine's speed now: the fastest of `repeats` runs of a fixed pure-Python loop, in ms."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200, help="orchestrated orders in the workload (default 200)")
    parser.add_argument("--choreographed", type=int, default=100, help="choreographed orders (default 100)")
    parser.add_argument("--clients", type=int, default=4, help="parallel clients (default 4)")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per cold-start figure (default 5)")
    parser.add_argument("--suite", action="store_true", help="also time the whole test suite (minutes)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write docs/benchmarks.*")
    args = parser.parse_args(argv)
    console = Console()

    from local.assembly import CloudAssembly
    from local.cli import synthesize
    from local.cloud import LocalCloud
    from ops.coldstart import measure

    results: dict[str, Any] = {
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "load_before": os.getloadavg()[0],
        "machine_loop_ms": machine_loop_ms(),
    }
    results["serve_first_seconds"], results["serve_seconds"] = time_to_serve(console)
    console.print(
        f"make local served in {results['serve_first_seconds']:.1f} s synthesizing, "
        f"{results['serve_seconds']:.1f} s again with nothing changed"
    )
    with tempfile.TemporaryDirectory() as assembly:
        synthesize(Path(assembly), None, console)
        with console.status("starting the local cloud"):
            cloud = LocalCloud.from_assembly(assembly, api_port=0, max_concurrency=args.clients, prewarm=True)
            before = process_cpu_seconds()
            cloud.start()
            results["cloud_start_cpu_seconds"] = process_cpu_seconds() - before
        try:
            with console.status("moto's CPU per DynamoDB request"):
                results["moto_request_cpu_ms"] = moto_request_cpu_on_a_scratch_table(cloud)
            results["orchestrated"] = run_workload(
                cloud.api_url, "orchestrated", args.orders, args.clients, console, moto_here=True
            )
            # The orchestrated orders' announcements (timeline, notifications, shipping batches) are
            # still being consumed: the choreographed figures measure that path, not that backlog.
            with console.status("waiting for the local cloud to drain the orchestrated orders' events"):
                cloud.wait_idle(timeout=120)
            results["choreographed"] = run_workload(
                cloud.api_url, "choreographed", args.choreographed, args.clients, console
            )
        finally:
            cloud.stop()
        with console.status(f"cold starts: every handler and the baseline, {args.runs} fresh processes each"):
            template = CloudAssembly.load(assembly).stack(None).template
            results["cold_starts"] = measure(template, "eu-west-1", args.runs)
    if args.suite:
        results["suite_seconds"] = time_suite(console)
    results["load_after"] = os.getloadavg()[0]
    previous = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else None
    console.print(summary(results, previous))
    if not args.no_write:
        write(results, previous)
        console.print(f"wrote {RESULTS_MD.relative_to(ROOT)} and {RESULTS_JSON.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
