"""The web console in a real headless Chromium, on the end-to-end suite's local cloud.

The page is mounted at /_console on the cloud's API port (as `make local` does), and used as a
person would: type into labelled fields, press Enter, click. Per path it places an order, opens
it, and reads its timeline, the state machine with the states the order passed through, and the
event flow map. Screenshots go to test-results/console/ (ORDERFLOW_TEST_RESULTS moves it).

Without chromium the test fails in CI (CI set) and skips elsewhere: `make test` installs it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from console import PREFIX
from console.graph import build
from console.mount import mount
from tests.e2e.browser import Browser, chromium, find_chromium

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def chromium_binary() -> str:
    binary = find_chromium()
    if binary is None:
        reason = "no chromium: `make test` installs Debian's chromium (apt-get), or set CHROMIUM=/path/to/chrome"
        if IN_CI:
            pytest.fail(f"the console's browser test cannot run in CI: {reason}")
        pytest.skip(reason)
    return binary


@pytest.fixture(scope="module")
def console_url(orderflow: Any) -> Iterator[str]:
    orderflow.cloud.mount(PREFIX, mount(orderflow.cloud, PREFIX))
    try:
        yield f"{orderflow.cloud.api_url}{PREFIX}"
    finally:
        with contextlib.suppress(RuntimeError):  # the cloud is already stopped after the last e2e test
            orderflow.cloud.mount(PREFIX, None)


@pytest.fixture(scope="module")
def screenshots() -> Path:
    directory = Path(os.environ.get("ORDERFLOW_TEST_RESULTS", ROOT / "test-results")) / "console"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="module")
def page(chromium_binary: str) -> Iterator[Browser]:
    with chromium(chromium_binary, width=1280, height=900) as browser:
        yield browser


def text(page: Browser, selector: str) -> str:
    return str(page.evaluate(f"document.querySelector({json.dumps(selector)}).textContent"))


def all_of(page: Browser, selector: str, attribute: str) -> list[str]:
    return list(
        page.evaluate(
            f"[...document.querySelectorAll({json.dumps(selector)})].map(e => e.getAttribute({json.dumps(attribute)}))"
        )
    )


def test_the_page_is_served_beside_the_api(orderflow: Any, console_url: str) -> None:
    http = orderflow.http
    assert http.get(console_url, allow_redirects=False).headers["Location"] == f"{PREFIX}/"
    index = http.get(f"{console_url}/")
    assert index.status_code == 200 and index.headers["Content-Type"].startswith("text/html")
    assert http.get(f"{console_url}/console.js").headers["Content-Type"].startswith("text/javascript")
    assert http.get(f"{console_url}/%2e%2e/app.py").status_code == 404  # nothing outside console/static
    graph = http.get(f"{console_url}/graph.json").json()
    assert {m["role"] for m in graph["state_machines"]} >= {"saga", "payment-workflow"}
    # The API is still the API: the console is not one of its routes.
    assert http.get(orderflow.url("/nothing-here")).status_code == 403


def test_console_places_an_order_on_each_path_and_follows_it(
    orderflow: Any, console_url: str, page: Browser, screenshots: Path, sku: str, synthesized: Any
) -> None:
    graph = build(synthesized.template_json, orderflow.cloud.stack.construct_paths)
    machines = {m["role"]: m for m in graph["state_machines"]}

    page.navigate(f"{console_url}/")
    page.wait_for("document.body.dataset.ready === 'true'", what="the page to read graph.json")
    assert "Orderflow" in text(page, "#stack-line")
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input, select')].filter(e => !e.labels || !e.labels.length).map(e => e.id)"
    )
    assert unlabelled == []

    # Stock an SKU with the keyboard: type, Enter. Twice: creating (If-None-Match), then If-Match.
    page.type("#stock-sku", sku)
    page.type("#stock-available", "10")
    page.type("#stock-price", "1500")
    page.press("Enter")
    page.wait_for("document.querySelector('#stock-result').textContent.includes('version 1')", what="the stock")
    page.type("#stock-available", "12")
    page.press("Enter")
    page.wait_for("document.querySelector('#stock-result').textContent.includes('version 2')", what="the restock")
    assert text(page, "#stock-result").startswith(f"{sku}: 12 available, 0 reserved, 1500 cents each")
    assert orderflow.stock(sku) == {"available": 12, "reserved": 0, "stocked": 12}
    page.screenshot(screenshots / "1-stocked.png")

    placed: dict[str, str] = {}
    for number, flow in enumerate(("orchestrated", "choreographed"), start=2):
        before = page.evaluate("document.querySelector('#order').dataset.order || ''")
        page.type("#order-sku", sku)
        page.type("#order-quantity", "2")
        page.click(f"#flow-{flow}")
        page.click("#order-form button[type=submit]")
        order_id = page.wait_for(
            f"(o => o !== {json.dumps(before)} && o)(document.querySelector('#order').dataset.order)",
            timeout=90,
            what=f"the {flow} order to open",
        )
        placed[flow] = order_id
        page.wait_for(
            "document.querySelector('#order').dataset.settled === 'true'",
            timeout=90,
            what=f"the {flow} order to settle",
        )
        assert f"order {order_id} is" in text(page, "#order-result")
        assert "CONFIRMED" in text(page, "#order-summary")
        assert orderflow.order_item(order_id)["status"] == "CONFIRMED"

        # The timeline on the page is the API's.
        api_events = orderflow.http.get(orderflow.url(f"/orders/{order_id}/timeline")).json()["events"]
        shown = all_of(page, "#timeline tbody tr", "data-event")
        assert shown == [e["detail_type"] for e in api_events]
        assert {"InventoryReserved", "PaymentCompleted", "OrderConfirmed"} <= set(shown)

        # The state machine drawn from the template, with the states the order passed through.
        machine = machines["saga" if flow == "orchestrated" else "payment-workflow"]
        assert page.evaluate("document.querySelector('#graph-svg').dataset.machine") == machine["label"]
        drawn = all_of(page, "#graph-svg .node", "data-state")
        assert sorted(drawn) == sorted(s["name"] for s in machine["states"])
        visited = all_of(page, "#visited li", "data-state")
        announced = set(all_of(page, "#graph-svg .node.announced", "data-state"))
        assert set(all_of(page, "#graph-svg .node.visited", "data-state")) == set(visited)
        action = {s["name"]: s["action"] for s in machine["states"]}
        terminal = {s["name"] for s in machine["states"] if s["terminal"]}
        assert visited[0] == machine["start"] and visited[-1] in terminal
        assert announced <= set(visited)
        for event in set(shown):  # each event announced by a task of this machine lit one of those tasks
            tasks = {name for name, a in action.items() if a in graph["announces"].get(event, [])}
            assert not tasks or tasks & announced, (event, tasks, announced)
        assert {action[name] for name in announced} & {"charge", "capture"}
        assert not {"refund", "void", "reject", "release", "fail"} & {action[name] for name in visited}
        if flow == "orchestrated":
            assert {action[name] for name in announced} >= {"reserve", "confirm"}
            assert "confirm" in visited[-1].lower()
        assert page.evaluate("document.querySelectorAll('#graph-svg .edge.hit').length") == len(visited) - 1

        # The event flow map: rules -> queues -> functions, lit where this order's events went.
        hit_rules = set(all_of(page, "#routes li", "data-rule"))
        rules = {r["id"]: r for r in graph["event_flow"]["rules"]}
        assert set(all_of(page, "#flow-svg .node", "data-id")) >= set(rules)
        assert set(all_of(page, "#flow-svg .node.hit", "data-id")) >= hit_rules
        choreography = {r for r, rule in rules.items() if rule["flows"] == ["choreographed"]}
        reserve_on_placed = {r for r in choreography if "OrderPlaced" in rules[r]["detail_types"]}
        assert reserve_on_placed
        if flow == "choreographed":
            assert reserve_on_placed <= hit_rules
        else:
            assert not choreography & hit_rules  # choreography rules match choreographed orders only
        page.screenshot(screenshots / f"{number}-{flow}.png")

    # Recent orders: both, newest first, with their status; one opens again by keyboard.
    page.click("#refresh-recent")
    page.wait_for(
        "[...document.querySelectorAll('#recent tbody tr .status')]"
        ".filter(s => s.textContent === 'CONFIRMED').length >= 2",
        what="the recent orders' statuses",
    )
    listed = all_of(page, "#recent tbody tr", "data-order")
    assert listed[:2] == [placed["choreographed"], placed["orchestrated"]]
    page.type("#open-id", placed["orchestrated"])
    page.press("Enter")
    page.wait_for(
        f"document.querySelector('#order').dataset.order === {json.dumps(placed['orchestrated'])}"
        " && document.querySelector('#order').dataset.settled === 'true'",
        timeout=60,
        what="the order opened by id",
    )
    assert page.evaluate("document.activeElement.id") == "order-heading"
    assert page.evaluate("document.querySelector('#graph-svg').dataset.machine") == machines["saga"]["label"]
    page.screenshot(screenshots / "4-opened-by-id.png")
