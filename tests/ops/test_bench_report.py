"""`make bench`'s report: each figure beside the previous run's, a regression named as one."""

from __future__ import annotations

from typing import Any

from ops import bench_report


def _results(orders_per_second: float, p99_ms: float, ratio: float, **extra: Any) -> dict[str, Any]:
    workload = {"orders": 10, "clients": 4, "p50_ms": 100.0, "p95_ms": 200.0, "max_ms": 900.0, "outcomes": {"201": 10}}
    return {
        "measured_at": "2026-12-02 10:00 UTC",
        "machine": "x86_64, 2 cores",
        "python": "3.11.7",
        "load_before": 1.0,
        "load_after": 2.0,
        "machine_loop_ms": 250.0,
        "serve_first_seconds": 14.0,
        "serve_seconds": 7.5,
        "orchestrated": {**workload, "flow": "orchestrated", "orders_per_second": orders_per_second, "p99_ms": p99_ms},
        "choreographed": {**workload, "flow": "choreographed", "orders_per_second": 3.0, "p99_ms": 2500.0},
        "cold_starts": [
            {
                "module": "baseline",
                "median_ms": 100,
                "min_ms": 90,
                "ratio": 1.0,
                "cpu_ms": 90,
                "cpu_ratio": 1.0,
                "max_rss_mb": 30,
            },
            {
                "module": "orders.handlers.api",
                "median_ms": 125,
                "min_ms": 110,
                "ratio": ratio,
                "cpu_ms": 100,
                "cpu_ratio": 1.1,
                "max_rss_mb": 40,
            },
        ],
        **extra,
    }


def _row(rows: list[tuple[str, ...]], prefix: str) -> tuple[str, ...]:
    return next(row for row in rows if row[0].startswith(prefix))


def test_a_slower_run_is_named_a_regression_and_a_faster_one_an_improvement() -> None:
    previous = _results(orders_per_second=10.0, p99_ms=1000.0, ratio=1.25)
    now = _results(orders_per_second=5.0, p99_ms=600.0, ratio=1.26)
    rows = bench_report.rows(now, previous)

    throughput = _row(rows, "orchestrated: orders/s")
    assert throughput[1:4] == ("10.0", "5.0", "0.50× worse")
    assert throughput[4] == "≥ 15.0 not met"
    latency = _row(rows, "orchestrated: p99")
    assert latency[3] == "0.60× better" and latency[4] == "≤ 1000 met"
    cold = _row(rows, "cold start")
    assert cold[1:4] == ("1.25×", "1.26×", "1.01×")  # within the noise: neither better nor worse
    assert _row(rows, "choreographed: p99")[4] == "≤ 2000 not met"
    # The suite was not timed in this run: no row, rather than a made-up figure.
    assert not [row for row in rows if row[0].startswith("`make test`")]


def test_the_first_run_has_no_previous_figures_and_the_page_keeps_other_sections(tmp_path, monkeypatch) -> None:
    page, figures = tmp_path / "benchmarks.md", tmp_path / "benchmarks.json"
    page.write_text("# Benchmarks\n\n## Figures\nold\n\n## Chaos by failure class\n\nkept as written\n")
    monkeypatch.setattr(bench_report, "RESULTS_MD", page)
    monkeypatch.setattr(bench_report, "RESULTS_JSON", figures)

    bench_report.write(_results(16.0, 900.0, 1.2, suite_seconds=170.0), previous=None)

    text = page.read_text()
    assert "| orchestrated: orders/s | — | 16.0 | — | ≥ 15.0 met |" in text
    assert "| `make test`: seconds (venv present) | — | 170.0 | — | ≤ 180.0 met |" in text
    assert "kept as written" in text and "\nold\n" not in text
    assert text.count("## Figures") == 1
    assert '"suite_seconds": 170.0' in figures.read_text()


def test_the_machines_own_speed_is_reported_beside_the_figures_without_a_goal() -> None:
    rows = bench_report.rows(_results(5.0, 900.0, 1.2, machine_loop_ms=500.0), _results(5.0, 900.0, 1.2))
    machine = _row(rows, "this machine")
    assert machine[1:] == ("250", "500", "2.00× worse", "—")


def test_the_machine_loop_times_something() -> None:
    from ops.bench import machine_loop_ms

    assert 0 < machine_loop_ms(repeats=1) < 60_000


def test_the_new_cpu_figures_are_reported_with_their_previous_values() -> None:
    extra = {
        "cloud_start_cpu_seconds": 3.1,
        "moto_request_cpu_ms": {"GetItem": 1.07, "PutItem": 1.4, "UpdateItem": 3.4},
    }
    before = {
        "cloud_start_cpu_seconds": 5.4,
        "moto_request_cpu_ms": {"GetItem": 2.2, "PutItem": 1.4, "UpdateItem": 3.5},
    }
    rows = bench_report.rows(_results(5.0, 900.0, 1.2, **extra), _results(5.0, 900.0, 1.2, **before))
    assert _row(rows, "local cloud start")[1:4] == ("5.4", "3.1", "0.57× better")
    assert _row(rows, "moto's server: CPU ms per GetItem")[1:4] == ("2.20", "1.07", "0.49× better")
    assert _row(rows, "moto's server: CPU ms per conditional PutItem")[3] == "1.00×"


def test_moto_request_cpu_counts_this_process_for_each_kind_of_request(moto_server: str) -> None:
    import boto3

    from ops.bench_moto import moto_request_cpu

    boto3.client("dynamodb", endpoint_url=moto_server).create_table(
        TableName="bench-table",
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    figures = moto_request_cpu(moto_server, "bench-table", "order_id", count=20)
    assert set(figures) == {"GetItem", "PutItem", "UpdateItem"}
    assert all(0 < ms < 1000 for ms in figures.values()), figures
    items = boto3.client("dynamodb", endpoint_url=moto_server).scan(TableName="bench-table")["Items"]
    assert len(items) == 21  # the first item, updated 20 times, and 20 conditional puts
    assert {item["version"]["N"] for item in items if "version" in item} == {"20"}


def test_moto_cpu_by_operation_names_each_request_a_local_moto_server_answers() -> None:
    import boto3

    from local.moto_server import MotoServer
    from ops.bench_moto import cpu_by_operation

    server = MotoServer(port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    options = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "bench",
        "aws_secret_access_key": "bench",
    }
    try:
        dynamodb, sns, awslambda = (boto3.client(s, **options) for s in ("dynamodb", "sns", "lambda"))
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        with cpu_by_operation() as figures:
            for i in range(3):
                dynamodb.put_item(TableName="t", Item={"k": {"S": str(i)}})
            dynamodb.get_item(TableName="t", Key={"k": {"S": "0"}})
            sns.list_topics()
            awslambda.list_functions()
        dynamodb.get_item(TableName="t", Key={"k": {"S": "1"}})  # after the block: not counted
    finally:
        server.stop()
    counts = {name: count for name, (_, count) in figures.items()}
    assert counts == {
        "dynamodb PutItem": 3,
        "dynamodb GetItem": 1,
        "sns ListTopics": 1,
        "lambda GET /2015-03-31/functions": 1,
    }
    assert all(cpu > 0 for cpu, _ in figures.values())


def test_the_page_shows_moto_s_cpu_per_order_by_operation() -> None:
    by_operation = {
        "dynamodb PutItem": {"cpu_ms_per_order": 20.0, "requests_per_order": 10.0},
        "events PutEvents": {"cpu_ms_per_order": 10.0, "requests_per_order": 5.0},
    }
    results = _results(5.0, 900.0, 1.2)
    results["orchestrated"]["moto_by_operation"] = by_operation
    section = "\n".join(bench_report.moto_section(results["orchestrated"]))
    assert "15.0 requests and 30.0 ms of moto's CPU per order" in section
    assert "| dynamodb PutItem | 10.00 | 20.0 | 2.00 | 67% |" in section
    assert section.index("PutItem") < section.index("PutEvents")
    rows = bench_report.rows(results, None)
    assert _row(rows, "orchestrated: of which moto's server")[2] == "30"
    assert bench_report.moto_section(_results(5.0, 900.0, 1.2)["orchestrated"]) == []
