"""The order as the orders service knows it, its statuses and its timeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events import Flow, OrderLine

Status = Literal["PENDING", "RESERVED", "PAID", "CONFIRMED", "REJECTED"]
TERMINAL: frozenset[str] = frozenset({"CONFIRMED", "REJECTED"})
# A write succeeds only if the stored rank is lower: status moves forward, terminal is final.
STATUS_RANK: dict[str, int] = {"PENDING": 0, "RESERVED": 1, "PAID": 2, "CONFIRMED": 9, "REJECTED": 9}

# Order ids derived from an Idempotency-Key: a retry after the idempotency record expired
# still lands on the same order instead of creating a second one.
_ORDER_ID_NAMESPACE = uuid.UUID("0c7f3a52-5d0e-4c55-9d3e-2b1f8e6a4c91")


def new_order_id(customer_id: str, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(_ORDER_ID_NAMESPACE, f"{customer_id}\n{idempotency_key}"))


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Fixed-width UTC ISO 8601, so that stored timestamps also sort as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class OrderSummary(BaseModel):
    """What every view of an order shows first: the order itself, its placement result, its API answer."""

    model_config = ConfigDict(frozen=True)

    order_id: str
    status: str
    flow: Flow
    reason: str | None = None
    items: list[OrderLine]
    total_cents: int
    tax_cents: int | None = None


class Order(OrderSummary):
    model_config = ConfigDict(frozen=True, extra="ignore")

    status: Status  # a stored order: one of the known statuses
    customer_id: str
    status_rank: int
    # The card token never reaches the table: payment_ref is the opaque reference that travels
    # to payments (shared.payment_ref), payment_fingerprint a salted sha256 of the token that
    # recognises a retry of the same purchase. Neither is logged or returned. An order the saga
    # recorded itself has no fingerprint (its input carries the reference only); one recorded
    # before references existed has neither (`travelling_ref` refuses it).
    payment_ref: str | None = Field(default=None, repr=False)
    payment_fingerprint: str | None = Field(default=None, repr=False)
    correlation_id: str
    created_at: str
    updated_at: str
    # The time by which the order must be decided: for an orchestrated order, the end of the
    # lease of the saga execution running it (no second execution starts before it); past
    # it, the reconciler decides the order. Only undecided orders carry `undecided` (the key
    # of the sparse index the reconciler reads); a terminal status removes it.
    deadline: str | None = None
    undecided: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    def same_card(self, other: Order) -> bool:
        """The card is compared by fingerprint (each sealing is a new ciphertext); the saga, which
        has no fingerprint, passes on the very reference it was given. Otherwise nothing proves
        it is the same card."""
        if self.payment_fingerprint is not None and other.payment_fingerprint is not None:
            return self.payment_fingerprint == other.payment_fingerprint
        return self.payment_ref is not None and self.payment_ref == other.payment_ref

    def travelling_ref(self) -> str:
        """The payment reference that the saga input and OrderPlaced carry."""
        if self.payment_ref is None:
            raise ValueError(f"order {self.order_id} has no payment reference")
        return self.payment_ref

    def same_request(self, other: Order) -> bool:
        """Whether two orders with one id describe the same purchase (a retry, not a conflict)."""
        return (
            self.customer_id == other.customer_id
            and self.flow == other.flow
            and self.same_card(other)
            and [(line.sku, line.quantity) for line in self.items]
            == [(line.sku, line.quantity) for line in other.items]
        )


# The sparse index of undecided orders is spread over this many partition keys (no hot key).
UNDECIDED_SHARDS = 8


def undecided_shard(order_id: str) -> str:
    return f"PENDING#{int(uuid.uuid5(_ORDER_ID_NAMESPACE, order_id)) % UNDECIDED_SHARDS}"


class StatusChange(BaseModel):
    """A forward-only status write: the target status and what it records alongside."""

    model_config = ConfigDict(frozen=True)

    status: Status  # a stored order: one of the known statuses
    reason: str | None = None
    total_cents: int | None = None
    tax_cents: int | None = None

    @property
    def rank(self) -> int:
        return STATUS_RANK[self.status]


class Transition(BaseModel):
    """The outcome of a forward-only write: whether it applied, and the order as stored after it."""

    model_config = ConfigDict(frozen=True)

    applied: bool
    order: Order


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    order_id: str
    event_key: str
    event_id: str
    source: str
    detail_type: str
    time: str
    correlation_id: str
    flow: str
    summary: dict[str, Any]
