"""A hot SKU, end to end: concurrent orders meet in one DynamoDB item, as on AWS.

The local cloud isolates DynamoDB per item (local/dynamodb_locks.py): reservations of the same
SKU that overlap conflict (TransactionConflict) instead of queueing behind one global lock. A
local transaction lasts about a millisecond, so overlaps are rare; to make sure the burst meets
conflicts, the test holds the SKU's item the way an in-flight transaction does until a few
reservations have been refused, then lets go: the inventory's conflict retries (and, past them,
the saga's retry of ReservationContention) must still sell exactly the stock.
"""

from __future__ import annotations

import concurrent.futures
import threading
import uuid
from collections import Counter

import pytest
import requests

from local.dynamodb_locks import LOCKS
from tests.e2e.faults import Ops
from tests.support.dynamodb_locks import item_held

pytestmark = pytest.mark.e2e

CLIENTS, STOCK = 12, 5
CONFLICTS = 4  # refused reservations before the held item is let go


def test_a_burst_on_one_sku_confirms_exactly_its_stock_and_rejects_the_rest(orderflow, sku):
    ops = Ops.of(orderflow.cloud)
    orderflow.put_stock(sku, available=STOCK)
    start = threading.Barrier(CLIENTS)

    def place(client: int) -> requests.Response:
        body = {
            "customer_id": f"hot-{client}-{uuid.uuid4().hex[:6]}",
            "items": [{"sku": sku, "quantity": 1}],
            "payment": {"token": "tok_visa"},
            "flow": "orchestrated",
        }
        with requests.Session() as http:  # one connection per client: they really overlap
            start.wait(timeout=30)
            return http.post(orderflow.url("/orders"), json=body, timeout=60)

    refused_before = LOCKS.conflicts
    with concurrent.futures.ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        # the SKU's item is taken by a (pretend) transaction on another thread until the block ends
        table = orderflow.table_name(orderflow.stack.inventory.table)
        with item_held(orderflow.cloud, table, {"pk": {"S": f"SKU#{sku}"}}, seconds=120):
            placing = [pool.submit(place, client) for client in range(CLIENTS)]
            assert LOCKS.wait_for_conflicts(refused_before + CONFLICTS, timeout=60), "reservations never met the item"
        responses = [future.result() for future in placing]

    codes = Counter(response.status_code for response in responses)
    assert codes == {201: STOCK, 409: CLIENTS - STOCK}, [(r.status_code, r.text) for r in responses]
    rejected = [response.json() for response in responses if response.status_code == 409]
    assert all(body.get("reason") == "OUT_OF_STOCK" for body in rejected), rejected

    orderflow.cloud.wait_idle(timeout=120)
    orders = ops.orders()
    order_ids = {response.json()["order_id"] for response in responses}
    assert len(order_ids) == CLIENTS
    outcomes = Counter(
        "CONFIRMED" if orders[i]["status"] == "CONFIRMED" else str(orders[i].get("reason")) for i in order_ids
    )
    assert outcomes == {"CONFIRMED": STOCK, "OUT_OF_STOCK": CLIENTS - STOCK}, outcomes
    assert ops.stock()[sku] == {"available": 0, "reserved": STOCK, "stocked": STOCK}
    ops.assert_no_violations()
