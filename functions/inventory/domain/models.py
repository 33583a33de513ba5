"""Stock items, reservations and the outcomes of reserving and releasing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

from shared.events import Flow, OrderLine

# One TransactWriteItems call carries every line plus the RES# item. DynamoDB allows 100
# actions, but the order contract caps an order at 25 distinct SKUs; enforce the same here.
MAX_DISTINCT_SKUS = 25

RejectReason = Literal["OUT_OF_STOCK", "UNKNOWN_SKU", "ALREADY_RELEASED"]

# Bounds on every number the inventory API accepts (a request beyond them is a 422 naming the
# field; an adjustment that would carry available past MAX_AVAILABLE is a 409).
MAX_AVAILABLE = 1_000_000_000
MAX_PRICE_CENTS = 100_000_000
MAX_DELTA = 1_000_000
MAX_REASON_LENGTH = 200
MAX_IDEMPOTENCY_KEY_LENGTH = 128


@dataclass(frozen=True)
class StockItem:
    sku: str
    available: int
    reserved: int
    stocked: int
    price_cents: int
    # Incremented by every write through the API (PUT and adjustments); items written before
    # versions existed read as 0. Reservations and releases do not change it.
    version: int = 0

    def view(self) -> dict[str, Any]:
        """The item as the API shows it: everything but ``stocked``."""
        return {name: value for name, value in asdict(self).items() if name != "stocked"}


@dataclass(frozen=True)
class Precondition:
    """What a conditional PUT requires of the stored item; the write itself checks it.

    ``versions``: If-Match with entity tags, the stored version must be one of them (an empty
    set never matches: no strong tag of ours was sent, and If-Match compares strongly).
    ``must_exist``: If-Match ``*``. ``must_not_exist``: If-None-Match ``*``.
    ``excluded_versions``: If-None-Match with entity tags, the item (if any) must be at none of them.
    """

    versions: frozenset[int] | None = None
    must_exist: bool = False
    must_not_exist: bool = False
    excluded_versions: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Adjustment:
    """A relative change of available stock, applied at most once per (sku, key)."""

    sku: str
    key: str
    delta: int
    reason: str | None = None

    def request_hash(self) -> str:
        """What "the same request" means for a retry with the same key: same delta and reason."""
        canonical = json.dumps({"delta": self.delta, "reason": self.reason}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class AdjustmentRecord:
    """The ADJ#{sku}#{key} item: the adjustment as applied, and the stock item it produced."""

    sku: str
    key: str
    delta: int
    reason: str | None
    request_hash: str
    result: StockItem
    created_at: str


@dataclass(frozen=True)
class AdjustmentOutcome:
    item: StockItem
    replayed: bool = False


class ReservationState(StrEnum):
    RESERVED = "RESERVED"
    # Terminal. With stock_returned=False it is a tombstone: released before any reserve.
    RELEASED = "RELEASED"
    # Terminal: the decision for this order is final, even if stock arrives later.
    REJECTED = "REJECTED"


@dataclass(frozen=True)
class Reservation:
    """The RES#{order_id} item: what this service decided for an order, once and for all."""

    order_id: str
    state: ReservationState
    lines: tuple[OrderLine, ...] = ()
    total_cents: int = 0
    customer_id: str | None = None
    reason: RejectReason | None = None
    sku: str | None = None
    stock_returned: bool = False
    created_at: str | None = None
    updated_at: str | None = None

    @classmethod
    def tombstone(cls, order_id: str, now: str) -> Reservation:
        return cls(order_id=order_id, state=ReservationState.RELEASED, created_at=now, updated_at=now)

    def rejected(self, reason: RejectReason, sku: str | None) -> Reservation:
        return replace(self, state=ReservationState.REJECTED, reason=reason, sku=sku)


def merge_lines(lines: Iterable[OrderLine]) -> dict[str, int]:
    """Quantity per SKU. A transaction may touch an item only once, so duplicates are summed."""
    quantities: dict[str, int] = {}
    for line in lines:
        quantities[line.sku] = quantities.get(line.sku, 0) + line.quantity
    return quantities


@dataclass(frozen=True)
class ReservationRequest:
    order_id: str
    customer_id: str
    items: tuple[OrderLine, ...]
    total_cents: int
    payment_ref: str
    correlation_id: str
    flow: Flow


@dataclass(frozen=True)
class ReservationOutcome:
    """The result of reserve_stock; ``replayed`` is True when an earlier decision was returned."""

    status: Literal["RESERVED", "REJECTED"]
    total_cents: int | None = None
    reason: RejectReason | None = None
    sku: str | None = None
    replayed: bool = False

    def result(self) -> dict[str, Any]:
        if self.status == "RESERVED":
            return {"status": "RESERVED", "total_cents": self.total_cents}
        # sku is always present so state machine paths like $.sku never fail on a missing key
        return {"status": "REJECTED", "reason": self.reason, "sku": self.sku}


@dataclass(frozen=True)
class ReleaseOutcome:
    stock_moved: bool
    replayed: bool = False
    lines: tuple[OrderLine, ...] = field(default=())

    def result(self) -> dict[str, Any]:
        return {"status": "RELEASED"}
