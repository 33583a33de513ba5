"""reserve_stock / release_stock against moto, with a fake publisher recording announcements."""

from __future__ import annotations

import pytest

from inventory.data.dynamodb import DynamoInventoryRepository
from inventory.domain.errors import TooManyLines
from inventory.domain.models import ReservationRequest, ReservationState
from inventory.logic import Inventory
from shared.events import OrderLine, event_id_for


@pytest.fixture
def repository(table: str) -> DynamoInventoryRepository:
    return DynamoInventoryRepository(table)


@pytest.fixture
def inventory(repository, publisher) -> Inventory:
    return Inventory(repository, publisher)


def line(sku: str, quantity: int, price: int = 500) -> OrderLine:
    return OrderLine(sku=sku, quantity=quantity, unit_price_cents=price)


def request(order_id: str, *lines: OrderLine, flow: str = "orchestrated") -> ReservationRequest:
    return ReservationRequest(
        order_id=order_id,
        customer_id="cust-1",
        items=tuple(lines),
        total_cents=sum(item.quantity * item.unit_price_cents for item in lines),
        payment_ref="kms1:c2VhbGVk",
        correlation_id="corr-1",
        flow=flow,  # type: ignore[arg-type]
    )


def stock(repository: DynamoInventoryRepository, sku: str) -> tuple[int, int, int]:
    item = repository.get_stock(sku)
    assert item is not None
    return item.available, item.reserved, item.stocked


def test_reserve_moves_every_line_and_announces_with_event_carried_state(inventory, repository, publisher):
    inventory.set_stock("apple", 10, 500)
    inventory.set_stock("pear", 3, 700)

    outcome = inventory.reserve_stock(request("o-1", line("apple", 4), line("pear", 3, 700)))

    assert outcome.result() == {"status": "RESERVED", "total_cents": 4 * 500 + 3 * 700}
    assert not outcome.replayed
    assert stock(repository, "apple") == (6, 4, 10)
    assert stock(repository, "pear") == (0, 3, 3)
    reservation = repository.get_reservation("o-1")
    assert reservation is not None and reservation.state is ReservationState.RESERVED
    [event] = publisher.events
    assert event.detail_type == "InventoryReserved"
    assert event.source == "orderflow.inventory"
    assert event.metadata.flow == "orchestrated"
    assert event.metadata.correlation_id == "corr-1"
    assert event.metadata.event_id == event_id_for("o-1", "InventoryReserved")
    assert event.data["payment_ref"] == "kms1:c2VhbGVk"
    assert event.data["total_cents"] == 4100
    assert event.data["customer_id"] == "cust-1"
    assert [i["sku"] for i in event.data["items"]] == ["apple", "pear"]


def test_out_of_stock_reserves_nothing_names_the_sku_and_stays_rejected_after_restock(inventory, repository, publisher):
    inventory.set_stock("apple", 10, 500)
    inventory.set_stock("pear", 1, 700)

    outcome = inventory.reserve_stock(request("o-2", line("apple", 2), line("pear", 2)))

    assert outcome.result() == {"status": "REJECTED", "reason": "OUT_OF_STOCK", "sku": "pear"}
    assert stock(repository, "apple") == (10, 0, 10), "the line with enough stock must not move either"
    assert stock(repository, "pear") == (1, 0, 1)
    assert repository.get_reservation("o-2").state is ReservationState.REJECTED
    assert publisher.types() == ["InventoryRejected"]
    assert publisher.events[0].data == {"order_id": "o-2", "reason": "OUT_OF_STOCK", "sku": "pear"}

    # a restock must not flip the decision: the order is being rejected already
    inventory.set_stock("pear", 50, 700)
    again = inventory.reserve_stock(request("o-2", line("apple", 2), line("pear", 2)))
    assert again.result() == outcome.result()
    assert again.replayed
    assert stock(repository, "pear") == (50, 0, 50)
    assert publisher.types() == ["InventoryRejected", "InventoryRejected"]
    assert publisher.events[0] == publisher.events[1]


def test_unknown_sku_is_rejected_as_unknown(inventory, repository, publisher):
    inventory.set_stock("apple", 10, 500)

    outcome = inventory.reserve_stock(request("o-3", line("apple", 1), line("ghost", 1)))

    assert outcome.result() == {"status": "REJECTED", "reason": "UNKNOWN_SKU", "sku": "ghost"}
    assert stock(repository, "apple") == (10, 0, 10)
    assert repository.get_stock("ghost") is None, "a failed reservation must not create the sku"
    assert publisher.events[0].data["reason"] == "UNKNOWN_SKU"


def test_duplicate_lines_are_merged_before_reserving(inventory, repository, publisher):
    inventory.set_stock("apple", 5, 500)

    ok = inventory.reserve_stock(request("o-4", line("apple", 2), line("apple", 3)))
    assert ok.status == "RESERVED"
    assert stock(repository, "apple") == (0, 5, 5)
    # the announced lines are the order's own lines, untouched by the merge
    assert [i["quantity"] for i in publisher.events[0].data["items"]] == [2, 3]

    inventory.set_stock("apple", 4, 500)
    short = inventory.reserve_stock(request("o-5", line("apple", 2), line("apple", 3)))
    assert short.result() == {"status": "REJECTED", "reason": "OUT_OF_STOCK", "sku": "apple"}
    assert stock(repository, "apple") == (4, 5, 9)


def test_retried_reserve_moves_stock_once_and_reannounces_the_same_event(inventory, repository, publisher):
    inventory.set_stock("apple", 10, 500)
    order = request("o-6", line("apple", 3))

    first = inventory.reserve_stock(order)
    second = inventory.reserve_stock(order)

    assert first.result() == second.result() == {"status": "RESERVED", "total_cents": 1500}
    assert (first.replayed, second.replayed) == (False, True)
    assert stock(repository, "apple") == (7, 3, 10)
    assert publisher.types() == ["InventoryReserved", "InventoryReserved"]
    assert publisher.events[0] == publisher.events[1], "a re-announcement is identical, time included"


def test_release_before_reserve_leaves_a_tombstone_that_refuses_a_late_reserve(inventory, repository, publisher):
    inventory.set_stock("apple", 10, 500)

    released = inventory.release_stock("o-7", "corr-1", "choreographed")
    assert released.result() == {"status": "RELEASED"}
    assert not released.stock_moved
    assert publisher.events == [], "nothing moved, so nothing is announced"

    late = inventory.reserve_stock(request("o-7", line("apple", 3)))
    assert late.result() == {"status": "REJECTED", "reason": "ALREADY_RELEASED", "sku": None}
    assert stock(repository, "apple") == (10, 0, 10)
    assert publisher.types() == ["InventoryRejected"]
    assert publisher.events[0].data["reason"] == "ALREADY_RELEASED"


def test_release_twice_returns_stock_once_and_reannounces(inventory, repository, publisher):
    inventory.set_stock("apple", 10, 500)
    inventory.reserve_stock(request("o-8", line("apple", 4), line("apple", 1)))
    assert stock(repository, "apple") == (5, 5, 10)

    first = inventory.release_stock("o-8", "corr-1", "orchestrated")
    second = inventory.release_stock("o-8", "corr-1", "orchestrated")

    assert first.result() == second.result() == {"status": "RELEASED"}
    assert (first.stock_moved, first.replayed) == (True, False)
    assert (second.stock_moved, second.replayed) == (True, True)
    assert stock(repository, "apple") == (10, 0, 10)
    released = [event for event in publisher.events if event.detail_type == "InventoryReleased"]
    assert len(released) == 2
    assert released[0] == released[1], "same id, same time, same data"
    assert [i["quantity"] for i in released[0].data["items"]] == [4, 1]
    # a reserve after the release must not take the stock again
    assert inventory.reserve_stock(request("o-8", line("apple", 4))).reason == "ALREADY_RELEASED"
    assert stock(repository, "apple") == (10, 0, 10)


def test_releasing_a_rejected_order_moves_nothing(inventory, repository, publisher):
    inventory.set_stock("apple", 1, 500)
    inventory.reserve_stock(request("o-9", line("apple", 2)))

    outcome = inventory.release_stock("o-9", "corr-1", "orchestrated")

    assert outcome.result() == {"status": "RELEASED"}
    assert not outcome.stock_moved
    assert stock(repository, "apple") == (1, 0, 1)
    assert publisher.types() == ["InventoryRejected"]
    assert repository.get_reservation("o-9").state is ReservationState.REJECTED


def test_set_stock_keeps_reserved_units_reserved(inventory, repository):
    inventory.set_stock("apple", 10, 500)
    inventory.reserve_stock(request("o-10", line("apple", 4)))

    item = inventory.set_stock("apple", 2, 650)

    assert (item.available, item.reserved, item.stocked, item.price_cents) == (2, 4, 6, 650)
    inventory.release_stock("o-10", "corr-1", "orchestrated")
    assert stock(repository, "apple") == (6, 0, 6)


def test_losing_the_race_for_the_reservation_returns_the_winners_decision(repository, publisher):
    """Two reserves of one order: the loser's transaction fails on RES# and it reads the winner's item."""
    Inventory(repository, publisher).set_stock("apple", 10, 500)
    winner = Inventory(repository, publisher)
    winner.reserve_stock(request("o-11", line("apple", 2)))

    class StaleRead(DynamoInventoryRepository):
        def __init__(self) -> None:
            super().__init__(repository._table)
            self.reads = 0

        def get_reservation(self, order_id):
            self.reads += 1
            return None if self.reads == 1 else super().get_reservation(order_id)

    loser = Inventory(StaleRead(), publisher).reserve_stock(request("o-11", line("apple", 2)))

    assert loser.result() == {"status": "RESERVED", "total_cents": 1000}
    assert loser.replayed
    assert stock(repository, "apple") == (8, 2, 10)


def test_more_distinct_skus_than_one_transaction_holds_is_a_technical_error(inventory):
    lines = [line(f"sku-{n}", 1) for n in range(26)]
    with pytest.raises(TooManyLines):
        inventory.reserve_stock(request("o-12", *lines))


def test_reserving_and_releasing_bump_the_version_an_if_match_put_checks(inventory, repository):
    before = inventory.set_stock("plum", 5, 300).version

    inventory.reserve_stock(request("o-v", line("plum", 2, 300)))
    reserved = repository.get_stock("plum")
    inventory.release_stock("o-v", "corr-1", "orchestrated")
    released = repository.get_stock("plum")

    assert reserved is not None and released is not None
    assert reserved.version == before + 1 and released.version == before + 2
