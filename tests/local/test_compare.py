"""`make compare` in small: the meter's counts are consistent and the document has every section.

Runs its own metered cloud of the real app (the shared runner cloud is another stack and is
stopped first, like the throwaway stack's tests do).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from local import compare

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small_run(cloud_manager: Any) -> tuple[dict[str, Any], str]:
    cloud_manager.stop()
    return compare.compare(orders_per_case=1, seed=7, clients=2, say=lambda _message: None)


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
