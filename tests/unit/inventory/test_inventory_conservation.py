"""Stock is conserved through any sequence of set_stock, reserve and release (hypothesis, moto)."""

from __future__ import annotations

import uuid

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from inventory.data.dynamodb import DynamoInventoryRepository
from inventory.domain.models import ReservationRequest, ReservationState
from inventory.logic import Inventory
from shared.events import OrderLine

SKUS = ["a", "b", "c"]
ORDERS = [f"o-{n}" for n in range(6)]

lines = st.lists(
    st.builds(
        OrderLine,
        sku=st.sampled_from([*SKUS, "ghost"]),
        quantity=st.integers(min_value=1, max_value=6),
        unit_price_cents=st.just(100),
    ),
    min_size=1,
    max_size=4,
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.sampled_from(SKUS), st.integers(min_value=0, max_value=12)),
        st.tuples(st.just("reserve"), st.sampled_from(ORDERS), lines),
        st.tuples(st.just("release"), st.sampled_from(ORDERS)),
    ),
    min_size=1,
    max_size=25,
)


class NullPublisher:
    def publish(self, events) -> None:
        list(events)


def check_invariants(client, table: str) -> None:
    """One scan per check: every SKU balances, and reserved equals what live reservations hold."""
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    held: dict[str, int] = {}
    for item in items:
        if item["pk"]["S"].startswith("RES#") and item["state"]["S"] == ReservationState.RESERVED:
            for line in item["lines"]["L"]:
                sku = line["M"]["sku"]["S"]
                held[sku] = held.get(sku, 0) + int(line["M"]["quantity"]["N"])
    stocked_skus = set()
    for item in items:
        if item["pk"]["S"].startswith("SKU#"):
            sku = item["sku"]["S"]
            stocked_skus.add(sku)
            available, reserved, stocked = (int(item[name]["N"]) for name in ("available", "reserved", "stocked"))
            assert available + reserved == stocked
            assert available >= 0
            assert reserved == held.get(sku, 0), "reserved must equal what live reservations hold"
    assert set(held) <= stocked_skus, "nothing can be held of a sku that does not exist"


@pytest.fixture(scope="module")
def moto_account():
    """One mocked account and client for every example (each gets a fresh table): keeps this test fast."""
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
def test_stock_is_conserved_through_any_sequence_of_operations(moto_account, ops):
    table = f"inventory-{uuid.uuid4().hex[:8]}"
    client = moto_account
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    repository = DynamoInventoryRepository(table, client)
    inventory = Inventory(repository, NullPublisher())
    decided: dict[str, str] = {}
    for op in ops:
        if op[0] == "set":
            inventory.set_stock(op[1], op[2], 100)
        elif op[0] == "reserve":
            order_id, order_lines = op[1], op[2]
            outcome = inventory.reserve_stock(
                ReservationRequest(
                    order_id=order_id,
                    customer_id="c",
                    items=tuple(order_lines),
                    total_cents=100 * sum(line.quantity for line in order_lines),
                    payment_ref="kms1:c2VhbGVk",
                    correlation_id="corr",
                    flow="choreographed",
                )
            )
            # the first decision for an order is final
            first = decided.setdefault(order_id, outcome.status)
            assert outcome.status == first or first == "RESERVED"
        else:
            inventory.release_stock(op[1], "corr", "choreographed")
            decided.setdefault(op[1], "REJECTED")
        check_invariants(client, table)
