"""The figures of `make bench` beside the previous run's: a table for the terminal, docs/benchmarks.md
and docs/benchmarks.json (the run the next one is compared with)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from ops.coldstart import markdown as cold_start_table

ROOT = Path(__file__).resolve().parent.parent
RESULTS_MD = ROOT / "docs" / "benchmarks.md"
RESULTS_JSON = ROOT / "docs" / "benchmarks.json"
# A figure that moved the wrong way by more than this is called a regression (runs on a shared
# machine vary by about this much).
NOISE = 0.10


@dataclass(frozen=True)
class Figure:
    name: str
    unit: str
    read: Callable[[dict[str, Any]], float | None]
    higher_is_better: bool
    goal: float

    def value(self, results: dict[str, Any] | None) -> float | None:
        if not results:
            return None
        try:
            return self.read(results)
        except (KeyError, TypeError, ValueError):
            return None

    def meets(self, value: float) -> bool:
        return value >= self.goal if self.higher_is_better else value <= self.goal

    def change(self, now: float, before: float | None) -> str:
        if before is None or before == 0:
            return "—"
        ratio = now / before
        worse = ratio < 1 - NOISE if self.higher_is_better else ratio > 1 + NOISE
        better = ratio > 1 + NOISE if self.higher_is_better else ratio < 1 - NOISE
        return f"{ratio:.2f}×" + (" worse" if worse else " better" if better else "")


def _slowest_cold_start(results: dict[str, Any]) -> float:
    return max(row["ratio"] for row in results["cold_starts"][1:])


FIGURES = (
    # Not orderflow's: the machine's own speed in the same run, so that a change in the figures
    # below can be told from a change in the machine (a shared one drifts by up to 2x in an hour).
    Figure(
        "this machine: a fixed pure-Python loop, ms (lower is a faster machine)",
        "ms",
        lambda r: r["machine_loop_ms"],
        False,
        0,
    ),
    Figure(
        "`make local`, first run (synthesizes): seconds to serve", "s", lambda r: r["serve_first_seconds"], False, 0
    ),
    Figure("`make local`, nothing changed: seconds to serve", "s", lambda r: r["serve_seconds"], False, 10),
    Figure(
        "local cloud start: CPU seconds of the runner (provisioning, imports, prewarm)",
        "s",
        lambda r: r["cloud_start_cpu_seconds"],
        False,
        0,
    ),
    Figure("moto's server: CPU ms per GetItem", "ms", lambda r: r["moto_request_cpu_ms"]["GetItem"], False, 0),
    Figure(
        "moto's server: CPU ms per conditional PutItem", "ms", lambda r: r["moto_request_cpu_ms"]["PutItem"], False, 0
    ),
    Figure("moto's server: CPU ms per UpdateItem", "ms", lambda r: r["moto_request_cpu_ms"]["UpdateItem"], False, 0),
    Figure("orchestrated: orders/s", "/s", lambda r: r["orchestrated"]["orders_per_second"], True, 15),
    Figure(
        "orchestrated: CPU ms per order in the runner's process (runner and clients)",
        "ms",
        lambda r: r["orchestrated"]["process_cpu_ms_per_order"],
        False,
        0,
    ),
    Figure(
        "orchestrated: of which moto's server, CPU ms per order (all its requests)",
        "ms",
        lambda r: sum(o["cpu_ms_per_order"] for o in r["orchestrated"]["moto_by_operation"].values()) or None,
        False,
        0,
    ),
    Figure("orchestrated: p99 ms to the answer", "ms", lambda r: r["orchestrated"]["p99_ms"], False, 1000),
    Figure("choreographed: orders/s", "/s", lambda r: r["choreographed"]["orders_per_second"], True, 0),
    Figure("choreographed: p99 ms to a terminal status", "ms", lambda r: r["choreographed"]["p99_ms"], False, 2000),
    Figure("cold start: slowest handler, × `import boto3` + one client", "×", _slowest_cold_start, False, 1.5),
    Figure("`make test`: seconds (venv present)", "s", lambda r: r.get("suite_seconds"), False, 180),
)


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "ms" and value < 10:
        return f"{value:.2f}"
    return f"{value:.1f}" if unit in ("/s", "s") else f"{value:.0f}"


def rows(results: dict[str, Any], previous: dict[str, Any] | None) -> list[tuple[str, str, str, str, str]]:
    """(figure, previous, now, change, goal) for every figure this run measured."""
    out = []
    for figure in FIGURES:
        now = figure.value(results)
        if now is None:
            continue
        before = figure.value(previous)
        goal = (
            "—" if figure.goal == 0 else ("≥ " if figure.higher_is_better else "≤ ") + _format(figure.goal, figure.unit)
        )
        if figure.goal:
            goal += " met" if figure.meets(now) else " not met"
        out.append(
            (figure.name, _format(before, figure.unit), _format(now, figure.unit), figure.change(now, before), goal)
        )
    return out


def summary(results: dict[str, Any], previous: dict[str, Any] | None) -> Table:
    table = Table(
        title=f"make bench, {results['measured_at']} (previous: {(previous or {}).get('measured_at', 'none')})"
    )
    for column in ("figure", "previous", "now", "change", "goal"):
        table.add_column(column, justify="left" if column in ("figure", "goal") else "right")
    for row in rows(results, previous):
        table.add_row(*row)
    return table


def moto_section(workload: dict[str, Any], shown: int = 12) -> list[str]:
    """moto's CPU per order, operation by operation (the operations costing most first)."""
    by_operation = workload.get("moto_by_operation") or {}
    if not by_operation:
        return []
    total = sum(o["cpu_ms_per_order"] for o in by_operation.values())
    requests = sum(o["requests_per_order"] for o in by_operation.values())
    lines = [
        f"## moto's server on the {workload['flow']} path: CPU per order by operation",
        "",
        f"{requests:.1f} requests and {total:.1f} ms of moto's CPU per order, each request timed on its",
        "own thread's clock (the orders' events included: relay, bus, consumers).",
        "",
        "| operation | requests per order | CPU ms per order | CPU ms per request | share |",
        "|---|---:|---:|---:|---:|",
    ]
    ranked = sorted(by_operation.items(), key=lambda entry: -entry[1]["cpu_ms_per_order"])
    for name, o in ranked[:shown]:
        per_request = o["cpu_ms_per_order"] / o["requests_per_order"] if o["requests_per_order"] else 0.0
        lines.append(
            f"| {name} | {o['requests_per_order']:.2f} | {o['cpu_ms_per_order']:.1f} | {per_request:.2f} | "
            f"{o['cpu_ms_per_order'] / total:.0%} |"
        )
    if len(ranked) > shown:
        rest = ranked[shown:]
        lines.append(
            f"| {len(rest)} others | {sum(o['requests_per_order'] for _, o in rest):.2f} | "
            f"{sum(o['cpu_ms_per_order'] for _, o in rest):.1f} | | |"
        )
    return [*lines, ""]


def _workload_section(w: dict[str, Any], what: str) -> list[str]:
    outcomes = ", ".join(f"{k}×{v}" for k, v in sorted(w["outcomes"].items()))
    return [
        f"## {w['flow'].capitalize()} path: {w['orders']} orders, {w['clients']} parallel clients",
        "",
        what,
        "",
        "| orders/s | p50 ms | p95 ms | p99 ms | max ms | outcomes |",
        "|---:|---:|---:|---:|---:|---|",
        f"| {w['orders_per_second']:.1f} | {w['p50_ms']:.0f} | {w['p95_ms']:.0f} | {w['p99_ms']:.0f} | "
        f"{w['max_ms']:.0f} | {outcomes} |",
        "",
    ]


# The sections this command writes; every other section of docs/benchmarks.md is kept as it is.
OWN_SECTIONS = (
    "## Figures",
    "## Orchestrated path",
    "## moto's server on the",
    "## Choreographed path",
    "## Cold start per function",
)


def other_sections(path: Path) -> str:
    """The sections of an existing benchmarks page that other commands wrote (chaos, the suite, ...)."""
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


def render(results: dict[str, Any], previous: dict[str, Any] | None) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m ops.bench`); the figures are orderflow's code on the local",
        "cloud (moto) on one machine, for comparing changes, not a prediction of AWS latency",
        "([comparison.md](comparison.md) models AWS). Each run is kept in",
        "[benchmarks.json](benchmarks.json); the next run prints its figures beside these.",
        "",
        f"Measured {results['measured_at']} on {results['machine']}, Python {results['python']} "
        f"(load average {results['load_before']:.1f} before, {results['load_after']:.1f} after).",
        "",
        "## Figures",
        "",
        f"Previous run: {(previous or {}).get('measured_at', 'none')}. A change beyond {NOISE:.0%} the wrong way "
        "says `worse`.",
        "",
        "| figure | previous | now | change | goal |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [f"| {' | '.join(row)} |" for row in rows(results, previous)]
    lines.append("")
    lines += _workload_section(
        results["orchestrated"],
        "Each order: HTTP → orders API → StartSyncExecution → ReadOrder (DynamoDB), ReserveInventory,\n"
        "ChargePayment, ConfirmOrder; the latency is the HTTP answer's. Both paths are measured after 3\n"
        "warm orders per client, so their functions have scaled out to the clients' concurrency.",
    )
    lines += moto_section(results["orchestrated"])
    lines += _workload_section(
        results["choreographed"],
        "Each order: HTTP (202) → orders table → stream → relay → bus → inventory → payments (its\n"
        "workflow) → orders projector; the latency runs from the request to the terminal status's\n"
        "`updated_at` (the write itself, not when a poll saw it). It starts once the local cloud has\n"
        "drained the orchestrated orders' events (timeline, notifications, shipping).",
    )
    lines += [
        "## Cold start per function (import and init in a fresh process, median)",
        "",
        "`python -m ops.coldstart` in the same run: a fresh interpreter importing the handler module with",
        "its function's environment, against one doing `import boto3` and creating one client.",
        "",
        cold_start_table(results["cold_starts"]),
        "",
    ]
    return "\n".join(lines)


def write(results: dict[str, Any], previous: dict[str, Any] | None) -> None:
    RESULTS_MD.write_text(render(results, previous) + other_sections(RESULTS_MD))
    RESULTS_JSON.write_text(json.dumps(results, indent=2) + "\n")
