"""Reserve and release on a hot SKU: DynamoDB's TransactionConflict is retried, then reported as contention."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from inventory.data import dynamodb as data
from inventory.data.dynamodb import DynamoInventoryRepository
from inventory.domain.models import ReservationRequest, ReservationState
from inventory.logic import Inventory, ReservationContention
from shared.events import OrderLine


def conflict(actions: int, held: int) -> ClientError:
    """What DynamoDB answers when another request holds action `held` of the transaction."""
    reasons = [{"Code": "None"}] * actions
    reasons[held] = {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
    codes = ", ".join(reason["Code"] for reason in reasons)
    return ClientError(
        {
            "Error": {
                "Code": "TransactionCanceledException",
                "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
            },
            "CancellationReasons": reasons,
        },
        "TransactWriteItems",
    )


class ConflictingClient:
    """The real (moto) client, except that the next `conflicts` transactions meet another one."""

    def __init__(self, conflicts: int) -> None:
        self._client = boto3.client("dynamodb")
        self.conflicts = conflicts
        self.transactions = 0

    def transact_write_items(self, **request: Any) -> Any:
        self.transactions += 1
        if self.conflicts:
            self.conflicts -= 1
            raise conflict(len(request["TransactItems"]), held=0)
        return self._client.transact_write_items(**request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(data.time, "sleep", slept.append)
    return slept


def reserve(inventory: Inventory, order_id: str, sku: str, quantity: int = 1) -> str:
    line = OrderLine(sku=sku, quantity=quantity, unit_price_cents=500)
    request = ReservationRequest(
        order_id=order_id,
        customer_id="cust-1",
        items=(line,),
        total_cents=500 * quantity,
        payment_ref="kms1:c2VhbGVk",
        correlation_id="corr-1",
        flow="orchestrated",
    )
    return inventory.reserve_stock(request).status


def setup(table: str, publisher: Any, conflicts: int) -> tuple[Inventory, DynamoInventoryRepository, ConflictingClient]:
    client = ConflictingClient(conflicts)
    repository = DynamoInventoryRepository(table, client=client)
    DynamoInventoryRepository(table).set_stock("hot", 5, 500)
    return Inventory(repository, publisher), repository, client


def test_a_reservation_meeting_a_few_conflicts_is_retried_with_jitter_and_succeeds(table, publisher, delays):
    inventory, repository, client = setup(table, publisher, conflicts=3)

    assert reserve(inventory, "o-1", "hot", 2) == "RESERVED"

    assert client.transactions == 4
    assert len(delays) == 3
    assert all(0 <= delay <= data._CONFLICT_MAX_DELAY_S for delay in delays)
    stock = repository.get_stock("hot")
    assert stock is not None and (stock.available, stock.reserved) == (3, 2)


def test_conflicts_that_persist_become_reservation_contention_and_move_nothing(table, publisher, delays):
    inventory, repository, client = setup(table, publisher, conflicts=100)

    with pytest.raises(ReservationContention):
        reserve(inventory, "o-2", "hot")

    assert client.transactions == data._CONFLICT_ATTEMPTS
    assert repository.get_reservation("o-2") is None
    stock = repository.get_stock("hot")
    assert stock is not None and (stock.available, stock.reserved) == (5, 0)
    # the saga's retry, once the burst is over, decides the order
    client.conflicts = 0
    assert reserve(inventory, "o-2", "hot") == "RESERVED"


def test_a_release_meeting_conflicts_is_retried(table, publisher, delays):
    inventory, repository, client = setup(table, publisher, conflicts=0)
    assert reserve(inventory, "o-3", "hot", 2) == "RESERVED"
    client.conflicts = 2

    outcome = inventory.release_stock("o-3", "corr-1", "orchestrated")

    assert outcome.stock_moved
    reservation = repository.get_reservation("o-3")
    assert reservation is not None and reservation.state is ReservationState.RELEASED
    stock = repository.get_stock("hot")
    assert stock is not None and (stock.available, stock.reserved) == (5, 0)
    assert len(delays) == 2


def test_a_refused_condition_is_never_retried(table, publisher, delays):
    inventory, _, client = setup(table, publisher, conflicts=0)

    assert reserve(inventory, "o-4", "hot", 6) == "REJECTED"

    assert client.transactions == 1
    assert delays == []
