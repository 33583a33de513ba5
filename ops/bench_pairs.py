"""Two revisions' orchestrated figures in alternating pairs: what a change did, on a machine that drifts.

    python -m ops.bench_pairs --against 5d9579a [--pairs 3] [--orders 100] [--clients 4]

A shared machine's speed drifts by up to 2x within an hour, so two runs of `make bench` an hour
apart cannot say what a change did. This runs the same orchestrated workload on a fresh local
cloud of each revision in turn - the revision given (a git worktree of it) and this working tree,
alternating, each run in a process of its own - and prints, for every run and for each side's
median: orders per second, p99 latency, and the CPU per order of the local cloud's process
(runner and clients) and of the functions' worker processes. Each side runs the app it
synthesizes from its own code.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent

# One run, in the revision's own code: only what every revision since the benchmark began has
# (LocalCloud.from_assembly, ops.bench.run_workload), so an older revision runs it unchanged.
ONE_RUN = """
import json, os, resource, sys
sys.path.insert(0, os.getcwd())
from rich.console import Console
from local.cloud import LocalCloud
from ops import bench

def workers_cpu():
    children, cpu = {}, {}
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(pid))
        cpu[int(pid)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total, stack = 0.0, [os.getpid()]
    while stack:
        for child in children.get(stack.pop(), []):
            total += cpu[child]
            stack.append(child)
    return total

def own_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

assembly, orders, clients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
console = Console(stderr=True)
with LocalCloud.from_assembly(assembly, api_port=0, max_concurrency=clients, prewarm=True) as cloud:
    bench.run_workload(cloud.api_url, "orchestrated", max(clients, orders // 5), clients, console)
    workers, own = workers_cpu(), own_cpu()
    result = bench.run_workload(cloud.api_url, "orchestrated", orders, clients, console)
    after = workers_cpu()
    # run_workload's warm orders (3 per client) run inside the measured process too
    placed = orders + bench.WARM_ORDERS_PER_CLIENT * clients
    print(json.dumps({
        "orders_per_second": result["orders_per_second"],
        "p99_ms": result["p99_ms"],
        "runner_cpu_ms": (own_cpu() - own) / placed * 1000,
        "workers_cpu_ms": None if workers is None else (after - workers) / placed * 1000,
    }))
"""

FIGURES = (
    ("orders/s", "orders_per_second", "{:.1f}"),
    ("p99 ms", "p99_ms", "{:.0f}"),
    ("runner CPU ms/order", "runner_cpu_ms", "{:.0f}"),
    ("workers CPU ms/order", "workers_cpu_ms", "{:.0f}"),
)


def synthesize(side: Path, into: Path) -> None:
    """The app as `side`'s code synthesizes it (its own CDK app, its own functions)."""
    script = (
        "import sys; from pathlib import Path; from rich.console import Console; from local.cli import synthesize; "
    )
    script += "synthesize(Path(sys.argv[1]), None, Console(stderr=True))"
    subprocess.run([sys.executable, "-c", script, str(into)], cwd=side, check=True)  # noqa: S603


def one_run(side: Path, assembly: Path, orders: int, clients: int) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", ONE_RUN, str(assembly), str(orders), str(clients)],
        cwd=side,
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def schedule(pairs: int) -> list[str]:
    """Alternating, and each pair's order flipped from the last (ABBA...), so a steady drift
    weighs on both sides alike."""
    order: list[str] = []
    for pair in range(pairs):
        order += ["before", "now"] if pair % 2 == 0 else ["now", "before"]
    return order


def table(runs: list[tuple[str, dict[str, Any]]], against: str) -> Table:
    result = Table(title=f"orchestrated, alternating: {against} (before) and this working tree (now)")
    result.add_column("run")
    result.add_column("side")
    for name, _, _ in FIGURES:
        result.add_column(name, justify="right")

    def cells(figures: dict[str, Any]) -> list[str]:
        return ["—" if figures.get(key) is None else fmt.format(figures[key]) for _, key, fmt in FIGURES]

    for index, (side, figures) in enumerate(runs, start=1):
        result.add_row(str(index), side, *cells(figures))
    medians: dict[str, dict[str, Any]] = {}
    for side in ("before", "now"):
        values = [figures for name, figures in runs if name == side]
        medians[side] = {
            key: statistics.median([v[key] for v in values]) if all(v.get(key) is not None for v in values) else None
            for _, key, _ in FIGURES
        }
        result.add_row("median", side, *cells(medians[side]), style="bold")
    ratio = {
        key: medians["now"][key] / medians["before"][key] if medians["before"][key] and medians["now"][key] else None
        for _, key, _ in FIGURES
    }
    result.add_row("now/before", "", *["—" if r is None else f"{r:.2f}×" for r in ratio.values()], style="bold")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench_pairs", description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="the revision to compare with (a commit, tag or branch)")
    parser.add_argument("--pairs", type=int, default=3, help="pairs of runs (default 3)")
    parser.add_argument("--orders", type=int, default=100, help="orchestrated orders per run (default 100)")
    parser.add_argument("--clients", type=int, default=4, help="parallel clients (default 4)")
    args = parser.parse_args(argv)
    console = Console()
    if args.pairs < 1 or args.orders < 1 or args.clients < 1:
        parser.error("--pairs, --orders and --clients must be at least 1")
    revision = subprocess.run(  # noqa: S603
        ["git", "rev-parse", "--verify", "--quiet", f"{args.against}^{{commit}}"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if not revision:
        parser.error(f"--against {args.against!r} names no commit of this repository")
    with tempfile.TemporaryDirectory(prefix="bench-pairs-") as scratch:
        before = Path(scratch) / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(before), revision], cwd=ROOT, check=True)  # noqa: S603,S607
        try:
            sides = {"before": before, "now": ROOT}
            assemblies = {side: Path(scratch) / f"{side}.out" for side in sides}
            for side, path in sides.items():
                with console.status(f"synthesizing the app of {side}"):
                    synthesize(path, assemblies[side])
            runs: list[tuple[str, dict[str, Any]]] = []
            for index, side in enumerate(schedule(args.pairs), start=1):
                with console.status(f"run {index} of {2 * args.pairs}: {side}, {args.orders} orders"):
                    runs.append((side, one_run(sides[side], assemblies[side], args.orders, args.clients)))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=ROOT, check=False)  # noqa: S603,S607
    console.print(table(runs, args.against))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
