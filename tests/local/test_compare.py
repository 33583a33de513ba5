"""`make compare` in small: the meter's counts are consistent and the document has every section.

Runs its own metered cloud of the app the session synthesized (the shared runner cloud is another
stack and is stopped first, like the throwaway stack's tests do).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from local import meter
from ops import compare

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.stops_the_shared_cloud  # run after the rest of tests/local (conftest.py)


@pytest.fixture(scope="module")
def small_run(cloud_manager: Any, synthesized: Any) -> tuple[dict[str, Any], str]:
    """On the session's synthesis (the test stack: fault injection on, as `make local`'s is)."""
    cloud_manager.stop()
    return compare.compare(
        orders_per_case=1,
        seed=7,
        clients=2,
        assembly=synthesized.outdir,
        say=lambda _message: None,
        fault_orders=1,
    )


def _usage(results: dict[str, Any], path: str, outcome: str) -> dict[str, float]:
    return next(row["usage"] for row in results["rows"] if row["path"] == path and row["outcome"] == outcome)


def _row(results: dict[str, Any], path: str, outcome: str) -> dict[str, Any]:
    return next(row for row in results["rows"] if row["path"] == path and row["outcome"] == outcome)


def test_orchestrated_confirmed_order_counts(small_run: tuple[dict[str, Any], str]) -> None:
    results, _ = small_run
    usage = _usage(results, "orchestrated", "confirmed")
    assert usage["api_requests"] == 1
    assert usage["express_executions"] == 1
    assert _row(results, "orchestrated", "confirmed")["critical_invocations"] >= 3
    assert usage["lambda_invocations"] >= _row(results, "orchestrated", "confirmed")["critical_invocations"]
    assert usage["dynamodb_wru"] > 0 and usage["dynamodb_rru"] > 0
    assert usage["lambda_gb_seconds"] > 0 and usage["log_bytes"] > 0


def test_the_orchestrated_critical_path_takes_at_most_four_lambda_invocations(
    small_run: tuple[dict[str, Any], str],
) -> None:
    """Counted by the meter: the API function and the saga's tasks up to the decision."""
    results, _ = small_run
    confirmed = _row(results, "orchestrated", "confirmed")
    assert confirmed["critical_max"] <= 4, confirmed["critical_path"]
    assert confirmed["critical_path"].split(" → ")[0].startswith("OrdersApi")
    for outcome in compare.OUTCOMES:
        assert _row(results, "orchestrated", outcome)["critical_max"] <= 4, outcome


def test_choreographed_order_counts(small_run: tuple[dict[str, Any], str]) -> None:
    results, _ = small_run
    for outcome in compare.OUTCOMES:
        usage = _usage(results, "choreographed", outcome)
        assert usage["api_requests"] == 1
        assert usage.get("standard_transitions", 0) == 0, "the payment workflow is Express"
        assert usage["putevents_entries"] > 0
        assert usage["rule_deliveries"] > 0
        assert usage["sqs_receive"] > 0 and usage["sqs_delete"] > 0
    assert _usage(results, "choreographed", "confirmed")["express_executions"] == 1  # the payment workflow


def test_every_order_decided_as_planned(small_run: tuple[dict[str, Any], str]) -> None:
    results, _ = small_run
    expected = {"confirmed": "CONFIRMED", "out of stock": "REJECTED", "declined": "REJECTED"}
    for order in results["orders"]:
        assert order.final_status == expected[order.outcome], order
    for row in results["rows"]:
        assert row["local_p50"] > 0 and row["aws_p50"] > 0


def test_document_has_every_section(small_run: tuple[dict[str, Any], str]) -> None:
    _, markdown = small_run
    for section in compare.SECTIONS:
        assert section in markdown
    assert f"generator: {compare.GENERATOR}" in markdown
    for service in compare.SERVICES:
        assert f"| {service} " in markdown


def test_committed_comparison_is_from_this_generator() -> None:
    text = (ROOT / "docs" / "comparison.md").read_text()
    header = re.search(r"<!-- generator: (.+?); model: (.+?); seed: (\d+) -->", text)
    assert header, "docs/comparison.md has no generator header: run make compare"
    assert header.group(1) == compare.GENERATOR, "docs/comparison.md is from another generator: run make compare"
    model = __import__("json").loads(compare.MODEL.read_text())
    assert header.group(2) == model["version"], "docs/comparison.md is from another model: run make compare"
    for section in compare.SECTIONS:
        assert section in text


def test_the_model_takes_moto_out_of_the_handler_time(small_run: tuple[dict[str, Any], str]) -> None:
    """The path's calls were timed on the server: its own time is what is left, and each call is modeled."""
    results, _ = small_run
    for row in results["rows"]:
        assert 0 < row["own_p50"] <= row["handler_p50"], row["path"]
        assert row["calls_mean"] > 0, row["path"]
        assert row["usage"]["lambda_gb_seconds_local"] > 0
    for function in results["functions"]:
        assert function["modeled_p50"] > 0


def test_reliability_under_a_payment_and_a_shipping_outage(small_run: tuple[dict[str, Any], str]) -> None:
    results, _ = small_run
    rows = {(row["fault"], row["path"]): row for row in results["reliability"]}
    assert set(rows) == {(fault, path) for fault in compare.FAULTS for path in compare.PATHS}
    for path in compare.PATHS:
        payment, shipping = rows["payment outage", path], rows["shipping outage", path]
        assert payment["final"].startswith("REJECTED PAYMENT_UNAVAILABLE"), payment
        assert "OrderRejected" in payment["undo"] and payment["undo_steps"] >= 1
        assert shipping["final"].startswith("CONFIRMED"), shipping
        assert shipping["shipped"] == 0 and shipping["undo_steps"] == 0


def test_complexity_is_read_from_the_template(small_run: tuple[dict[str, Any], str]) -> None:
    results, _ = small_run
    rows = {row["path"]: row for row in results["complexity"]["rows"]}
    assert rows["orchestrated"]["machines"] == 1 and rows["orchestrated"]["states"] > 5
    assert rows["orchestrated"]["rules"] == 0
    assert rows["choreographed"]["rules"] > 0 and rows["choreographed"]["queues"] > 0
    assert all(row["lines"] > 0 for row in rows.values())


def test_charts_are_drawn_and_linked(small_run: tuple[dict[str, Any], str], tmp_path: Path) -> None:
    results, markdown = small_run
    written = compare.draw_charts(results, tmp_path)
    assert [path.name for path in written] == list(compare.CHARTS.values())
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for name in compare.CHARTS.values():
        assert f"]({name})" in markdown


def test_committed_charts_exist() -> None:
    for name in compare.CHARTS.values():
        assert (ROOT / "docs" / name).is_file(), f"docs/{name} is missing: run make compare"


class _Index:
    def __init__(self, keys: list[str], projection: dict[str, Any]) -> None:
        self.schema = [{"AttributeName": key, "KeyType": "HASH"} for key in keys]
        self.projection = projection


class _Table:
    hash_key_attr, range_key_attr = "pk", None

    def __init__(self, *indexes: _Index) -> None:
        self.global_indexes = list(indexes)


class _Backend:
    def __init__(self, table: _Table) -> None:
        self.table = table

    def get_table(self, _name: str) -> _Table:
        return self.table


def test_the_meter_bills_index_writes() -> None:
    by_day = _Index(["day"], {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["detail_type"]})
    backend = _Backend(_Table(by_day))
    marker = {"pk": {"S": "EVENT#1"}, "day": {"S": "2026-03-01"}, "detail_type": {"S": "OrderConfirmed"}}
    notified = marker | {"notified_at": {"S": "2026-03-01T00:00:00Z"}}
    assert meter.index_write_units(backend, "t", None, marker) == 1  # enters the index
    assert meter.index_write_units(backend, "t", marker, notified) == 0  # the index's copy is unchanged
    assert meter.index_write_units(backend, "t", marker, marker | {"day": {"S": "2026-03-02"}}) == 2  # key moved
    assert meter.index_write_units(backend, "t", marker, None) == 1  # leaves it
    assert meter.index_write_units(backend, "t", {"pk": {"S": "x"}}, {"pk": {"S": "x"}, "n": {"N": "1"}}) == 0


class _Calls:
    """A meter's records, as `modeled_duration_ms` reads them."""

    def __init__(self, invocations: list[Any], executions: list[Any], calls: dict[str, list[Any]]) -> None:
        self.invocations, self.executions, self._calls = invocations, executions, calls

    def calls_of(self, invocation: Any) -> tuple[float, list[Any]]:
        calls = self._calls.get(invocation.request_id, [])
        return sum(call.ms for call in calls), calls


def _invocation(request_id: str, trigger: str, start: float, end: float) -> meter.Invocation:
    return meter.Invocation(
        function=request_id, request_id=request_id, trace_root=request_id, trigger=trigger, start=start, end=end,
        duration_ms=(end - start) * 1000, memory_mb=2048, errored=False, correlation_ids=["c-1"], decisions=[],
        log_bytes=0,
    )  # fmt: skip


def test_a_function_waiting_for_a_synchronous_execution_is_billed_for_it() -> None:
    """The API's StartSyncExecution lasts the whole saga: modeled as the saga's tasks and hops, not one request."""
    from ops.compare.durations import modeled_duration_ms

    model = json.loads(compare.MODEL.read_text())
    hops = model["latency_ms"]
    api = _invocation("api", "api", 0.0, 2.0)
    task = _invocation("task", "invoke", 0.5, 1.0)  # 500 ms, of which 400 waiting for the server
    execution = meter.Execution("saga", "EXPRESS", 0.1, 1.9, 12, ["c-1"], dynamodb_tasks=1)
    calls = {
        "api": [meter.AwsCall("states", 0.1, 1.9, "StartSyncExecution"), meter.AwsCall("dynamodb", 0.0, 0.05)],
        "task": [meter.AwsCall("dynamodb", 0.55, 0.95, "PutItem")],
    }
    records = _Calls([api, task], [execution], calls)

    task_ms = 500 - 400 + hops["call:dynamodb"]["p50"]
    assert modeled_duration_ms(task, records, model) == pytest.approx(task_ms)  # type: ignore[arg-type]
    saga_ms = task_ms + hops["express_sync_task"]["p50"] + hops["express_dynamodb_task"]["p50"]
    own_ms = 2000 - 1800 - 50
    expected = own_ms + hops["call:dynamodb"]["p50"] + hops["call:states"]["p50"] + saga_ms
    assert modeled_duration_ms(api, records, model) == pytest.approx(expected)  # type: ignore[arg-type]

    asynchronous = {**calls, "api": [meter.AwsCall("states", 0.1, 1.9, "StartExecution"), calls["api"][1]]}
    assert modeled_duration_ms(api, _Calls([api, task], [execution], asynchronous), model) == pytest.approx(  # type: ignore[arg-type]
        expected - saga_ms
    )


def test_an_item_that_names_its_correlation_id_is_billed_to_that_order() -> None:
    from local.meter.attribution import item_correlation_ids

    assert item_correlation_ids({"order_id": {"S": "o-1"}, "correlation_id": {"S": "c-1"}}) == ["c-1"]
    assert item_correlation_ids({"order_id": {"S": "o-1"}}) == []
    assert item_correlation_ids({"correlation_id": {"N": "1"}}) == []
    assert item_correlation_ids(None) == []


def test_a_wait_is_what_the_function_saw_when_the_server_was_slow_to_read_it() -> None:
    """The server times its side of a request; the function's side also holds the queueing before it."""
    records = meter.Meter()
    step = _invocation("fn", "invoke", 0.0, 1.0)
    records.aws_call("fn", meter.AwsCall("dynamodb", 0.30, 0.40))
    assert records.calls_of(step)[0] == pytest.approx(100)

    step.client_calls = [(0.10, 0.41)]  # sent at 0.10, read by the server at 0.30
    waited, calls = records.calls_of(step)
    assert waited == pytest.approx(310) and [c.service for c in calls] == ["dynamodb"]
    assert records.calls_of(step, until=0.2)[0] == pytest.approx(100)  # up to a cut


def test_own_code_is_stretched_to_the_functions_cpu_share_on_lambda() -> None:
    from ops.compare.durations import FULL_VCPU_MB, lambda_own_ms

    assert FULL_VCPU_MB == json.loads(compare.MODEL.read_text())["billing_rules"]["lambda_full_vcpu_mb"] == 1769
    step = _invocation("fn", "invoke", 0.0, 1.0)
    assert lambda_own_ms(step, 100) == pytest.approx(100)  # a full vCPU and more: as measured
    step.memory_mb = 512
    assert lambda_own_ms(step, 100) == pytest.approx(100 * 1769 / 512)
    step.cpu_ms = 20  # the rest of its own wall time waited for a core here
    assert lambda_own_ms(step, 100) == pytest.approx(20 * 1769 / 512)
