"""What the checker reads and reports: the snapshot of every table, what can still move, the violations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from ops.topology import MOVES_ORDERS

# Longer than the saga's 4-minute timeout, so that a synchronous execution has always ended.
DEFAULT_GRACE = timedelta(minutes=5)
STATUS_RANK = {"PENDING": 0, "RESERVED": 1, "PAID": 2, "CONFIRMED": 9, "REJECTED": 9}
TERMINAL = frozenset({"CONFIRMED", "REJECTED"})
# Payment states that leave no money taken or held from the customer.
SETTLED_UNCHARGED = frozenset({"DECLINED", "VOIDED", "REFUNDED", "FAILED"})


class Kind(StrEnum):
    STOCK_NOT_CONSERVED = "STOCK_NOT_CONSERVED"
    NEGATIVE_AVAILABLE = "NEGATIVE_AVAILABLE"
    NEGATIVE_RESERVED = "NEGATIVE_RESERVED"
    RESERVED_MISMATCH = "RESERVED_MISMATCH"
    INVALID_STATUS = "INVALID_STATUS"
    CONFIRMED_WITHOUT_RESERVATION = "CONFIRMED_WITHOUT_RESERVATION"
    RESERVATION_LINES_MISMATCH = "RESERVATION_LINES_MISMATCH"
    CONFIRMED_WITHOUT_CAPTURE = "CONFIRMED_WITHOUT_CAPTURE"
    CAPTURE_MISMATCH = "CAPTURE_MISMATCH"
    CONFIRMED_WITHOUT_SHIPMENT = "CONFIRMED_WITHOUT_SHIPMENT"
    SHIPMENT_LINES_MISMATCH = "SHIPMENT_LINES_MISMATCH"
    REJECTED_HOLDS_STOCK = "REJECTED_HOLDS_STOCK"
    REJECTED_CHARGED = "REJECTED_CHARGED"
    REJECTED_SHIPPED = "REJECTED_SHIPPED"
    LOST = "LOST"
    ORPHAN_SHIPMENT = "ORPHAN_SHIPMENT"
    ORPHAN_CAPTURE = "ORPHAN_CAPTURE"
    ORPHAN_RESERVATION = "ORPHAN_RESERVATION"
    ORPHAN_HOLD = "ORPHAN_HOLD"


@dataclass(frozen=True)
class Violation:
    kind: Kind
    subject: str  # the order id, or the sku for stock rules
    detail: str


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)  # queue name -> messages waiting or in flight
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def by_kind(self) -> Counter[str]:
        return Counter(str(v.kind) for v in self.violations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "violations": [{"kind": str(v.kind), "subject": v.subject, "detail": v.detail} for v in self.violations],
            "counts": self.counts,
            "messages": self.messages,
            "notes": self.notes,
        }


@dataclass
class Snapshot:
    """What the tables held, each item as plain Python (numbers as int)."""

    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    skus: dict[str, dict[str, Any]] = field(default_factory=dict)
    reservations: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    shipments: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The simulated processor's own records (SIM#AUTH#, SIM#CAP#): the "bank's" side of a payment.
    processor_authorizations: dict[str, dict[str, Any]] = field(default_factory=dict)
    processor_captures: dict[str, dict[str, Any]] = field(default_factory=dict)

    def captures_of(self, authorization_id: Any) -> list[dict[str, Any]]:
        return [c for c in self.processor_captures.values() if c.get("authorization_id") == authorization_id]


@dataclass
class Activity:
    """What can still move an order: messages in the queues that drive it, and running executions."""

    messages: dict[str, int] = field(default_factory=dict)  # "<name> (queue)" / "<name> (dlq)" -> count
    running_orders: set[str] = field(default_factory=set)
    unattributed_running: int = 0  # running executions whose order we could not tell

    @property
    def waiting(self) -> int:
        return sum(self.messages.values())

    def moving(self, flow: Any) -> int:
        """Messages that can still advance an order of this flow (topology.MOVES_ORDERS)."""
        movers = MOVES_ORDERS.get(str(flow), frozenset())
        return sum(n for label, n in self.messages.items() if label.split(" (")[0] in movers)

    def can_move(self, order_id: str, flow: Any) -> bool:
        return bool(self.unattributed_running or order_id in self.running_orders or self.moving(flow))


Progress = Callable[[str], None]
OrderReader = Callable[[str], dict[str, Any] | None]
