"""The inventory repository interface. Logic depends on this, never on boto3."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from inventory.domain.models import AdjustmentRecord, Precondition, Reservation, StockItem


class InventoryRepository(Protocol):
    def get_stock(self, sku: str) -> StockItem | None: ...

    def set_stock(
        self, sku: str, available: int, price_cents: int, precondition: Precondition | None = None
    ) -> StockItem:
        """Set available and price in one atomic write; reserved units stay reserved; version + 1.

        Raises PreconditionFailed, writing nothing, if ``precondition`` does not hold.
        """
        ...

    def get_adjustment(self, sku: str, key: str) -> AdjustmentRecord | None: ...

    def apply_adjustment(self, record: AdjustmentRecord, expected: StockItem) -> None:
        """Replace the stock item ``expected`` by ``record.result`` and store ``record``, atomically.

        Raises AdjustmentRecorded if the key is already recorded, StockChanged if the stored
        item is no longer ``expected``; neither writes anything.
        """
        ...

    def get_reservation(self, order_id: str) -> Reservation | None: ...

    def create_reservation(self, reservation: Reservation, quantities: Mapping[str, int]) -> None:
        """Move every quantity from available to reserved and record the reservation, atomically.

        Raises ReservationExists if the order already has a RES# item, otherwise
        InsufficientStock naming the first SKU that lacked stock (or does not exist).
        """
        ...

    def record_decision(self, reservation: Reservation) -> bool:
        """Record a decision that moves no stock (REJECTED, or a RELEASED tombstone).

        Returns False, writing nothing, if the order already has a RES# item.
        """
        ...

    def release_reservation(self, reservation: Reservation, quantities: Mapping[str, int], now: str) -> None:
        """Move the quantities back to available and mark the reservation RELEASED, atomically.

        Raises ReservationNotActive if it is no longer RESERVED.
        """
        ...
