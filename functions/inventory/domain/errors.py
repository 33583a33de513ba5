"""Domain exceptions. The data layer translates storage failures into these."""

from __future__ import annotations


class InventoryError(Exception):
    """Base of every inventory domain error."""


class SkuNotFound(InventoryError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"unknown sku {sku!r}")
        self.sku = sku


class InsufficientStock(InventoryError):
    """A line could not be reserved; ``known`` is False when the SKU does not exist at all."""

    def __init__(self, sku: str, *, known: bool) -> None:
        super().__init__(f"insufficient stock for {sku!r}" if known else f"unknown sku {sku!r}")
        self.sku = sku
        self.known = known


class ReservationExists(InventoryError):
    """Another writer recorded a reservation (or tombstone) for this order first."""


class ReservationNotActive(InventoryError):
    """The reservation was no longer RESERVED when we tried to release it."""


class StockInvariantViolated(InventoryError):
    """Releasing would drive ``reserved`` below zero: stored data contradicts the reservation.

    Never expected; raised loudly instead of silently "fixing" the numbers.
    """


class TooManyLines(InventoryError, ValueError):
    """More distinct SKUs than one DynamoDB transaction may carry alongside the reservation."""
