"""The seeded workload: the orders of every path and outcome, placed through the local API, and the outage runs."""

from __future__ import annotations

import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from local.meter import Invocation, Usage
from ops import fault_document
from ops.compare.constants import FAULT_ORDERS, FAULTS, OUTCOMES, PATHS


@dataclass
class Order:
    index: int
    path: str
    outcome: str
    correlation_id: str
    status: int = 0
    order_id: str = ""
    final_status: str = ""


@dataclass
class OrderFigures:
    order: Order
    usage: Usage
    local_ms: float | None
    critical: list[tuple[str, Invocation]] = field(default_factory=list)  # (hop, invocation)
    service_hops: list[str] = field(default_factory=list)  # hops on the path that run no function
    aws_wait_ms: float = 0.0  # of the handler time on the path: waiting for the local cloud's answers
    aws_calls: list[str] = field(default_factory=list)  # the services of the AWS calls the path completed
    lambda_own_ms: float = 0.0  # the path's own time as modeled for Lambda's CPU share (`lambda_own_ms`)


def plan(orders_per_case: int, seed: int) -> list[Order]:
    cases = [(path, outcome) for path in PATHS for outcome in OUTCOMES for _ in range(orders_per_case)]
    random.Random(seed).shuffle(cases)
    return [Order(i, path, outcome, f"cmp-{seed}-{i:04d}") for i, (path, outcome) in enumerate(cases)]


def run_workload(cloud: Any, orders: list[Order], seed: int, clients: int, say: Any) -> None:
    api = cloud.api_url
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=max(4, clients)))
    stocked, empty = f"cmp-{seed}-stocked", f"cmp-{seed}-empty"
    for sku, available in ((stocked, 10 * len(orders) + 10), (empty, 0)):
        http.put(f"{api}/inventory/{sku}", json={"available": available, "price_cents": 1250}).raise_for_status()

    def body(path: str, outcome: str) -> dict[str, Any]:
        return {
            "customer_id": "compare",
            "flow": path,
            "items": [{"sku": empty if outcome == "out of stock" else stocked, "quantity": 1}],
            "payment": {"token": "tok_chargeDeclined" if outcome == "declined" else "tok_visa"},
        }

    for path in PATHS:  # warm every function once; these orders are not counted
        for outcome in OUTCOMES:
            http.post(f"{api}/orders", json=body(path, outcome), headers={"X-Correlation-Id": "warm-up"}, timeout=60)
    cloud.wait_idle(120)
    cloud.meter.reset()  # count the workload only

    def place(order: Order) -> Order:
        response = http.post(
            f"{api}/orders",
            json=body(order.path, order.outcome),
            headers={"X-Correlation-Id": order.correlation_id, "Idempotency-Key": order.correlation_id},
            timeout=60,
        )
        order.status = response.status_code
        order.order_id = str(response.json().get("order_id", "")) if response.content else ""
        return order

    done = 0
    with ThreadPoolExecutor(clients) as pool:
        for _ in pool.map(place, orders):
            done += 1
            if done % 10 == 0 or done == len(orders):
                say(f"  placed {done}/{len(orders)} orders")
    say("  waiting for the choreography to settle")
    cloud.wait_idle(300)
    for order in orders:  # read without a correlation id: these reads count for no order
        if order.order_id:
            answer = http.get(f"{api}/orders/{order.order_id}", timeout=30).json()
            order.final_status = str(answer.get("status", ""))
    cloud.wait_idle(60)


@dataclass
class FaultRun:
    fault: str
    order: Order
    timeline: list[str] = field(default_factory=list)  # detail types, oldest first


def run_faults(cloud: Any, seed: int, clients: int, say: Any, per_path: int = FAULT_ORDERS) -> list[FaultRun]:
    """Places confirmable orders on both paths under each fault of FAULTS, waits until nothing moves,
    and reads each order's status and timeline while the fault still holds."""
    parameter = next(
        (str(r.physical_id) for logical_id, r in cloud.resources.items() if logical_id.startswith("FaultInjection")),
        None,
    )
    if parameter is None:
        say("  no FaultInjection parameter in the template: reliability not measured")
        return []
    ssm = cloud.client("ssm")
    settle = fault_document.settle_seconds(cloud.stack.template)
    http = requests.Session()
    http.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=max(4, clients)))
    sku = f"cmp-{seed}-stocked"
    runs: list[FaultRun] = []
    body = {"customer_id": "compare", "items": [{"sku": sku, "quantity": 1}], "payment": {"token": "tok_visa"}}
    for number, (fault, document) in enumerate(FAULTS.items()):
        say(f"  {fault}: {per_path} orders per path")
        ssm.put_parameter(Name=parameter, Value=json.dumps(document), Overwrite=True)
        time.sleep(settle)  # until every warm process has read the document again
        orders = [
            Order(1000 * (number + 1) + i, path, fault, f"cmp-{seed}-fault{number}-{path[:5]}-{i}")
            for path in PATHS
            for i in range(per_path)
        ]
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(lambda order: _place(http, cloud.api_url, order, body | {"flow": order.path}), orders))
        cloud.wait_idle(300)
        for order in orders:
            run = FaultRun(fault, order)
            if order.order_id:
                answer = http.get(f"{cloud.api_url}/orders/{order.order_id}", timeout=30).json()
                order.final_status = f"{answer.get('status', '')} {answer.get('reason') or ''}".strip()
                timeline = http.get(f"{cloud.api_url}/orders/{order.order_id}/timeline", timeout=30).json()
                run.timeline = [str(event.get("detail_type")) for event in timeline.get("events", [])]
            runs.append(run)
        ssm.put_parameter(Name=parameter, Value="{}", Overwrite=True)
        time.sleep(settle)
        cloud.wait_idle(120)
    return runs


def _place(http: requests.Session, api: str, order: Order, body: dict[str, Any]) -> Order:
    response = http.post(
        f"{api}/orders",
        json=body,
        headers={"X-Correlation-Id": order.correlation_id, "Idempotency-Key": order.correlation_id},
        timeout=120,
    )
    order.status = response.status_code
    order.order_id = str(response.json().get("order_id", "")) if response.content else ""
    return order
