"""`make bench-pairs`: two revisions' orchestrated figures, alternating."""

from __future__ import annotations

import pytest
from rich.console import Console

from ops import bench_pairs


def test_runs_alternate_and_each_pair_flips_its_order() -> None:
    assert bench_pairs.schedule(1) == ["before", "now"]
    assert bench_pairs.schedule(3) == ["before", "now", "now", "before", "before", "now"]


def test_the_table_shows_every_run_each_side_s_median_and_the_ratio() -> None:
    def run(ops: float, cpu: float, workers: float | None) -> dict[str, float | None]:
        return {"orders_per_second": ops, "p99_ms": 900.0, "runner_cpu_ms": cpu, "workers_cpu_ms": workers}

    runs = [
        ("before", run(6.0, 120, 80)),
        ("now", run(8.0, 90, 60)),
        ("now", run(9.0, 80, 70)),
        ("before", run(5.0, 140, 90)),
    ]
    console = Console(width=200, record=True)
    console.print(bench_pairs.table(runs, "abc123"))
    text = console.export_text()
    assert "abc123" in text
    lines = {
        line.split("│")[1].strip() + " " + line.split("│")[2].strip(): line
        for line in text.splitlines()
        if line.count("│") > 3
    }
    assert "5.5" in lines["median before"] and "130" in lines["median before"]
    assert "8.5" in lines["median now"] and "85" in lines["median now"]
    assert "1.55×" in lines["now/before "]  # orders/s 8.5 / 5.5
    assert "0.65×" in lines["now/before "]  # runner CPU 85 / 130


def test_a_side_without_worker_figures_shows_a_dash() -> None:
    runs = [("before", {"orders_per_second": 5.0, "p99_ms": 1.0, "runner_cpu_ms": 1.0, "workers_cpu_ms": None})]
    runs.append(("now", {"orders_per_second": 6.0, "p99_ms": 1.0, "runner_cpu_ms": 1.0, "workers_cpu_ms": None}))
    console = Console(width=200, record=True)
    console.print(bench_pairs.table(runs, "x"))
    assert "—" in console.export_text()


def test_a_revision_that_is_not_a_commit_is_refused_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        bench_pairs.main(["--against", "no-such-revision-here"])
    assert refused.value.code == 2
    assert "names no commit" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench_pairs.main(["--against", "HEAD", "--pairs", "0"])
