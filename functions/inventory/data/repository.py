"""The inventory repository interface. Logic depends on this, never on boto3."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from inventory.domain.models import Reservation, StockItem


class InventoryRepository(Protocol):
    def get_stock(self, sku: str) -> StockItem | None: ...

    def set_stock(self, sku: str, available: int, price_cents: int) -> StockItem:
        """Set available and price in one atomic write; reserved units stay reserved."""
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
