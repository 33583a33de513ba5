"""Domain exceptions. The data layer translates storage failures into these."""

from __future__ import annotations

from shared.errors import TemplatedError


class InventoryError(Exception):
    """Base of every inventory domain error."""


class SkuNotFound(TemplatedError, InventoryError):
    template = "unknown sku {sku!r}"
    sku: str


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


class PreconditionFailed(TemplatedError, InventoryError):
    """If-Match / If-None-Match did not hold; nothing was written.

    ``current_version`` is the stored version, or None when the sku does not exist.
    """

    template = "precondition failed for {sku!r} (current version {current_version})"
    sku: str
    current_version: int | None


class AdjustmentOutOfRange(InventoryError):
    """Applying the delta would take available below zero or above its maximum; nothing was written."""

    def __init__(self, sku: str, available: int, delta: int, limit: int) -> None:
        below = available + delta < 0
        super().__init__(
            f"{sku!r}: available {available} {'-' if delta < 0 else '+'} {abs(delta)} would be "
            + ("below zero" if below else f"above the maximum {limit}")
        )
        self.sku = sku
        self.available = available
        self.delta = delta
        self.below_zero = below
        self.limit = limit


class IdempotencyKeyReused(TemplatedError, InventoryError):
    """The Idempotency-Key was already used on this sku with a different request body."""

    template = "idempotency key already used on {sku!r} with a different body"
    sku: str


class AdjustmentRecorded(InventoryError):
    """The data layer found an ADJ# item for this key: the adjustment was not applied (again)."""


class StockChanged(InventoryError):
    """The stock item changed between read and conditional write; read again and retry."""


class StockContention(InventoryError):
    """The stock item kept changing under an adjustment; technical and retryable by the caller."""
