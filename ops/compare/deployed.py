"""`python -m ops.compare --stack NAME`: the comparison's workload against a deployed stack.

Orders of both paths and the three outcomes go through the deployed API, signed with SigV4
(ops.api); each order's time to a decision is measured from the client. Each path runs in its own
minute-aligned time window, and CloudWatch's counts for each window (ops.compare.cloudwatch),
divided by the path's orders, are priced with the comparison's model (ops.compare.model).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.credentials import Credentials

from ops.api import ApiAnswer, call, join
from ops.checker.model import TERMINAL
from ops.compare.constants import PATHS
from ops.compare.workload import plan

EXPECTED = {"confirmed": "CONFIRMED", "out of stock": "REJECTED OUT_OF_STOCK", "declined": "REJECTED PAYMENT_DECLINED"}


@dataclass
class Placed:
    path: str
    outcome: str
    correlation_id: str
    status: int = 0  # the POST's HTTP status
    order_id: str = ""
    final_status: str = ""  # CONFIRMED, REJECTED <reason>, or what went wrong
    latency_ms: float | None = None  # from sending the POST to the answer that carried the decision
    polls: int = 0  # GET /orders/{id} sent for it


@dataclass
class Window:
    """One path's orders and the minutes CloudWatch counts them in: [start, end)."""

    path: str
    start: datetime
    end: datetime
    orders: list[Placed] = field(default_factory=list)
    own_requests: int = 0  # requests besides the orders' POSTs: the inventory PUTs, the status polls

    @property
    def requests(self) -> int:
        return len(self.orders) + self.own_requests


class SignedApi:
    """The deployed REST API, every request signed for execute-api with the session's credentials."""

    def __init__(self, base_url: str, credentials: Credentials, region: str) -> None:
        self.base_url, self.credentials, self.region = base_url, credentials, region

    def send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> ApiAnswer:
        url = join(self.base_url, path)
        return call(method, url, body, headers, credentials=self.credentials, region=self.region)


def order_body(path: str, outcome: str, stocked: str, empty: str) -> bytes:
    """The body ops.compare.workload sends for a path and an outcome."""
    import json

    return json.dumps(
        {
            "customer_id": "compare",
            "flow": path,
            "items": [{"sku": empty if outcome == "out of stock" else stocked, "quantity": 1}],
            "payment": {"token": "tok_chargeDeclined" if outcome == "declined" else "tok_visa"},
        }
    ).encode()


def stock(api: SignedApi, seed: int, run: str, orders: int) -> tuple[str, str]:
    """The stocked SKU and the empty one, as ops.compare.workload sets them."""
    stocked, empty = f"cmp-{seed}-stocked", f"cmp-{seed}-empty"
    for sku, available in ((stocked, 10 * orders + 10), (empty, 0)):
        body = f'{{"available": {available}, "price_cents": 1250}}'.encode()
        answer = api.send("PUT", f"/inventory/{sku}", body, {"X-Correlation-Id": f"{run}-stock"})
        if answer.status >= 300:
            raise RuntimeError(f"PUT /inventory/{sku} answered {answer.status}: {answer.body}")
    return stocked, empty


def _decision(body: Any) -> str:
    if isinstance(body, dict) and body.get("status") in TERMINAL:
        return f"{body['status']} {body.get('reason') or ''}".strip()
    return ""


def place(
    api: SignedApi,
    order: Placed,
    skus: tuple[str, str],
    decision_wait: float,
    poll_interval: float,
    clock: Callable[[], float] = time.monotonic,
) -> Placed:
    """POST the order; without a decision in the answer (202), poll its status until it has one."""
    headers = {"X-Correlation-Id": order.correlation_id, "Idempotency-Key": order.correlation_id}
    started = clock()
    answer = api.send("POST", "/orders", order_body(order.path, order.outcome, *skus), headers)
    order.status = answer.status
    body = answer.body if isinstance(answer.body, dict) else {}
    order.order_id = str(body.get("order_id", ""))
    decided = _decision(body)
    accepted = answer.status == 202 and bool(order.order_id)  # then any answer but a decision: ask again
    while not decided and accepted and clock() - started < decision_wait:
        time.sleep(poll_interval)
        answer = api.send("GET", f"/orders/{order.order_id}", None, {"X-Correlation-Id": order.correlation_id})
        order.polls += 1
        decided = _decision(answer.body) if answer.status == 200 else ""
    if decided:
        order.latency_ms = (clock() - started) * 1000
        order.final_status = decided
    else:
        order.final_status = f"undecided (HTTP {answer.status})" if answer.status < 300 else f"HTTP {answer.status}"
    return order


def minute(moment: datetime, up: bool = False) -> datetime:
    floor = moment.replace(second=0, microsecond=0)
    return floor + timedelta(minutes=1) if up and floor != moment else floor


def run_windows(
    api: SignedApi,
    orders_per_case: int,
    seed: int,
    clients: int,
    say: Callable[[str], None],
    *,
    settle: float = 15.0,
    decision_wait: float = 60.0,
    poll_interval: float = 0.25,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
) -> list[Window]:
    """Each path's orders in a window of whole minutes of its own: after a path, `settle` seconds for
    its asynchronous tail, then the next minute boundary."""
    run = now().strftime("%Y%m%dT%H%M%S")
    planned = plan(orders_per_case, seed)
    first = minute(now())
    skus = stock(api, seed, run, len(planned))
    windows: list[Window] = []
    for path in PATHS:
        if windows:
            boundary = minute(now() + timedelta(seconds=settle), up=True)
            pause = max(0.0, (boundary - now()).total_seconds())
            say(f"  waiting {pause:.0f} s for the next minute: each path's counts in minutes of their own")
            sleep(pause)
        window = Window(path, minute(now()) if windows else first, first)
        if windows:
            windows[-1].end = window.start
        else:
            window.own_requests += 2  # the inventory PUTs
        mine = [
            Placed(o.path, o.outcome, f"cmpd-{run}-{o.correlation_id.rsplit('-', 1)[-1]}")
            for o in planned
            if o.path == path
        ]
        say(f"{path}: {len(mine)} orders, {clients} clients, window from {window.start:%H:%M} UTC")

        def one(order: Placed) -> Placed:
            return place(api, order, skus, decision_wait, poll_interval)

        with ThreadPoolExecutor(max(1, clients)) as pool:
            for done, order in enumerate(pool.map(one, mine), start=1):
                shown = "no decision" if order.latency_ms is None else f"{order.latency_ms:.0f} ms"
                say(f"  {done}/{len(mine)} {order.outcome}: HTTP {order.status} → {order.final_status}, {shown}")
        window.orders = mine
        window.own_requests += sum(order.polls for order in mine)
        windows.append(window)
    windows[-1].end = minute(now() + timedelta(seconds=settle), up=True)
    return windows


def await_metrics(
    read: Callable[[Window], dict[str, float]],
    windows: list[Window],
    say: Callable[[str], None],
    *,
    metrics_wait: float = 300.0,
    interval: float = 20.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[list[dict[str, float]], bool]:
    """Reads each window until CloudWatch has caught up: every window over, at least one API request and
    one Lambda invocation counted per request sent, and the same counts twice in a row. Gives up after
    `metrics_wait` seconds with what it has (False)."""
    deadline = clock() + metrics_wait
    previous: list[dict[str, float]] | None = None
    while True:
        readings = [read(window) for window in windows]
        covered = all(
            now() >= w.end and u["api_requests"] >= w.requests and u["lambda_invocations"] >= w.requests
            for w, u in zip(windows, readings, strict=True)
        )
        if covered and readings == previous:
            return readings, True
        progress = ", ".join(
            f"{w.path} {u['api_requests']:.0f}/{w.requests} API requests, {u['lambda_invocations']:.0f} invocations"
            for w, u in zip(windows, readings, strict=True)
        )
        if clock() + interval > deadline:
            say(f"  CloudWatch: {progress}; --metrics-wait is over, using these counts")
            return readings, False
        say(f"  CloudWatch so far: {progress}" + ("; reading once more to see them settle" if covered else ""))
        previous = readings
        sleep(interval)
