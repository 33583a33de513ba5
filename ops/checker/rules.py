"""The invariants, over a snapshot and what can still move (ops.checker explains each)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ops.checker.model import (
    DEFAULT_GRACE,
    SETTLED_UNCHARGED,
    STATUS_RANK,
    Activity,
    Kind,
    OrderReader,
    Snapshot,
    Violation,
)


def _quantities(lines: Iterable[Mapping[str, Any]] | None) -> dict[str, int]:
    merged: dict[str, int] = {}
    for line in lines or []:
        merged[str(line.get("sku"))] = merged.get(str(line.get("sku")), 0) + int(line.get("quantity", 0))
    return merged


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def check_stock(snapshot: Snapshot) -> list[Violation]:
    violations: list[Violation] = []
    held: dict[str, int] = {}
    for reservation in snapshot.reservations.values():
        if reservation.get("state") == "RESERVED":
            for sku, quantity in _quantities(reservation.get("lines")).items():
                held[sku] = held.get(sku, 0) + quantity
    for sku, item in sorted(snapshot.skus.items()):
        available, reserved, stocked = (
            _int(item.get("available")),
            _int(item.get("reserved", 0)),
            _int(item.get("stocked")),
        )
        if available is None or reserved is None or stocked is None:
            violations.append(Violation(Kind.STOCK_NOT_CONSERVED, sku, f"unreadable counters: {item}"))
            continue
        if available + reserved != stocked:
            violations.append(
                Violation(
                    Kind.STOCK_NOT_CONSERVED, sku, f"available {available} + reserved {reserved} != stocked {stocked}"
                )
            )
        if available < 0:
            violations.append(Violation(Kind.NEGATIVE_AVAILABLE, sku, f"available {available}"))
        if reserved < 0:
            violations.append(Violation(Kind.NEGATIVE_RESERVED, sku, f"reserved {reserved}"))
        if reserved != held.get(sku, 0):
            violations.append(
                Violation(
                    Kind.RESERVED_MISMATCH,
                    sku,
                    f"reserved {reserved} but RESERVED reservations hold {held.get(sku, 0)}",
                )
            )
    for sku in sorted(set(held) - set(snapshot.skus)):
        violations.append(
            Violation(Kind.RESERVED_MISMATCH, sku, f"reservations hold {held[sku]} of a sku with no item")
        )
    return violations


def _check_capture(order: Mapping[str, Any], payment: Mapping[str, Any] | None, snapshot: Snapshot) -> list[Violation]:
    order_id = str(order["order_id"])
    if payment is None or payment.get("state") != "CAPTURED":
        state = "no payment" if payment is None else f"payment {payment.get('state')}"
        return [Violation(Kind.CONFIRMED_WITHOUT_CAPTURE, order_id, state)]
    problems = []
    if not payment.get("capture_id"):
        problems.append("no capture_id")
    if payment.get("refund_id"):
        problems.append(f"refund {payment['refund_id']} recorded")
    amount, tax = _int(payment.get("amount_cents")), _int(payment.get("tax_cents"))
    total, order_tax = _int(order.get("total_cents")), _int(order.get("tax_cents"))
    # payments: amount_cents is the order total before tax; the capture charges amount + tax.
    captured = _int(payment.get("captured_cents"))
    if amount is not None and tax is not None and captured is None:
        captured = amount + tax
    if amount is None or tax is None or total is None or captured is None:
        problems.append(f"amounts unreadable (amount {amount}, tax {tax}, total {total})")
    else:
        if amount != total:
            problems.append(f"authorized {amount} for an order total of {total}")
        if order_tax is not None and order_tax != tax:
            problems.append(f"order tax {order_tax} != payment tax {tax}")
        if captured != total + tax:
            problems.append(f"captured {captured} != total {total} + tax {tax}")
    problems.extend(_processor_capture_problems(payment, captured, snapshot))
    return [Violation(Kind.CAPTURE_MISMATCH, order_id, p) for p in problems]


def _processor_capture_problems(payment: Mapping[str, Any], captured: int | None, snapshot: Snapshot) -> list[str]:
    """One capture at the processor, of the recorded amount, nothing refunded (simulated provider only)."""
    authorization_id = payment.get("authorization_id")
    if authorization_id not in snapshot.processor_authorizations:
        return []  # a real provider keeps its records elsewhere
    captures = snapshot.captures_of(authorization_id)
    if len(captures) != 1:
        return [f"processor holds {len(captures)} captures of authorization {authorization_id}"]
    [capture] = captures
    problems = []
    if capture.get("capture_id") != payment.get("capture_id"):
        problems.append(f"processor captured {capture.get('capture_id')}, payment records {payment.get('capture_id')}")
    if capture.get("amount_cents") != captured:
        problems.append(f"processor captured {capture.get('amount_cents')}, payment records {captured}")
    if capture.get("refunded_cents"):
        problems.append(f"processor refunded {capture.get('refunded_cents')} of a kept capture")
    return problems


def _money_kept(payment: Mapping[str, Any], snapshot: Snapshot) -> list[str]:
    """What a rejected order's payment still takes or holds from the customer."""
    state = payment.get("state")
    kept = []
    if state not in SETTLED_UNCHARGED:
        kept.append(f"payment {state}")
    elif state == "REFUNDED" and payment.get("refunded_cents") != payment.get("captured_cents"):
        kept.append(f"refunded {payment.get('refunded_cents')} of {payment.get('captured_cents')} captured")
    authorization_id = payment.get("authorization_id")
    authorization = snapshot.processor_authorizations.get(authorization_id) if authorization_id else None
    if authorization is not None:
        if authorization.get("state") == "AUTHORIZED":
            kept.append(f"processor still holds authorization {authorization_id}")
        for capture in snapshot.captures_of(authorization_id):
            if int(capture.get("refunded_cents") or 0) < int(capture.get("amount_cents") or 0):
                kept.append(
                    f"processor capture {capture.get('capture_id')} refunded "
                    f"{capture.get('refunded_cents') or 0} of {capture.get('amount_cents')}"
                )
    return kept


def is_settled(order: Mapping[str, Any], now: datetime, grace: timedelta, settled: bool) -> bool:
    if settled:
        return True
    moment = _parse_time(order.get("updated_at")) or _parse_time(order.get("created_at"))
    return moment is None or now - moment >= grace


class _OrderRules:
    """Order-level rules over one snapshot; `read_order` re-reads an order before blaming a later scan."""

    def __init__(
        self,
        snapshot: Snapshot,
        activity: Activity,
        *,
        now: datetime,
        grace: timedelta,
        settled: bool,
        read_order: OrderReader | None,
    ) -> None:
        self.snapshot, self.activity = snapshot, activity
        self.now, self.grace, self.settled = now, grace, settled
        self.read_order = read_order
        self.violations: list[Violation] = []

    def flag(self, kind: Kind, order_id: str, detail: str) -> None:
        self.violations.append(Violation(kind, order_id, detail))

    def moved(self, order_id: str, seen: Mapping[str, Any] | None) -> bool:
        """Whether the order changed (or appeared) since the scan: then it is not ours to judge yet."""
        if self.read_order is None:
            return False
        fresh = self.read_order(order_id)
        if fresh is None:
            return seen is not None
        return seen is None or fresh.get("status") != seen.get("status")

    def run(self) -> list[Violation]:
        for order_id, order in sorted(self.snapshot.orders.items()):
            status = order.get("status")
            if status not in STATUS_RANK or order.get("status_rank") != STATUS_RANK[str(status)]:
                self.flag(Kind.INVALID_STATUS, order_id, f"status {status!r} with rank {order.get('status_rank')!r}")
            elif status == "CONFIRMED":
                self.confirmed(order_id, order)
            elif status == "REJECTED":
                self.rejected(order_id, order)
            else:
                self.open(order_id, order)
        self.orphans()
        return self.violations

    def confirmed(self, order_id: str, order: Mapping[str, Any]) -> None:
        reservation = self.snapshot.reservations.get(order_id)
        if reservation is None or reservation.get("state") != "RESERVED":
            state = "none" if reservation is None else reservation.get("state")
            self.flag(Kind.CONFIRMED_WITHOUT_RESERVATION, order_id, f"reservation {state}")
        else:
            held, ordered = _quantities(reservation.get("lines")), _quantities(order.get("items"))
            if held != ordered:
                self.flag(Kind.RESERVATION_LINES_MISMATCH, order_id, f"reserved {held} for items {ordered}")
        self.violations.extend(_check_capture(order, self.snapshot.payments.get(order_id), self.snapshot))
        # Shipping hears OrderConfirmed after the fact, in both flows.
        shipment = self.snapshot.shipments.get(order_id)
        if is_settled(order, self.now, self.grace, self.settled) and (
            shipment is None or shipment.get("status") != "SCHEDULED"
        ):
            state = "none" if shipment is None else f"status {shipment.get('status')}"
            self.flag(Kind.CONFIRMED_WITHOUT_SHIPMENT, order_id, f"shipment {state}")
        elif shipment is not None and "items" in shipment:
            shipped, ordered = _quantities(shipment.get("items")), _quantities(order.get("items"))
            if shipped != ordered:
                self.flag(Kind.SHIPMENT_LINES_MISMATCH, order_id, f"ships {shipped} for items {ordered}")

    def rejected(self, order_id: str, order: Mapping[str, Any]) -> None:
        reservation = self.snapshot.reservations.get(order_id)
        payment = self.snapshot.payments.get(order_id)
        # The saga compensates before it rejects; choreography compensates after OrderRejected.
        if order.get("flow") != "choreographed" or is_settled(order, self.now, self.grace, self.settled):
            if reservation is not None and reservation.get("state") == "RESERVED":
                self.flag(Kind.REJECTED_HOLDS_STOCK, order_id, f"holds {_quantities(reservation.get('lines'))}")
            for kept in _money_kept(payment, self.snapshot) if payment is not None else []:
                self.flag(Kind.REJECTED_CHARGED, order_id, kept)
        shipment = self.snapshot.shipments.get(order_id)
        if shipment is not None:
            self.flag(Kind.REJECTED_SHIPPED, order_id, f"shipment {shipment.get('shipment_id')}")

    def open(self, order_id: str, order: Mapping[str, Any]) -> None:
        """PENDING / RESERVED / PAID."""
        status = order.get("status")
        if order_id in self.snapshot.shipments and not self.moved(order_id, order):
            self.flag(Kind.ORPHAN_SHIPMENT, order_id, f"shipment for a {status} order")
        if not is_settled(order, self.now, self.grace, self.settled):
            return
        payment = self.snapshot.payments.get(order_id)
        if payment is not None and payment.get("state") == "CAPTURED" and not self.moved(order_id, order):
            self.flag(Kind.ORPHAN_CAPTURE, order_id, f"captured, order still {status}")
        if not self.activity.can_move(order_id, order.get("flow")) and not self.moved(order_id, order):
            self.flag(Kind.LOST, order_id, f"{status} since {order.get('updated_at')}; nothing left that can move it")

    def orphans(self) -> None:
        """Items of other services for orders the orders table does not hold."""
        snapshot = self.snapshot
        for order_id in sorted(set(snapshot.shipments) - set(snapshot.orders)):
            if not self.moved(order_id, None):
                self.flag(Kind.ORPHAN_SHIPMENT, order_id, "shipment for an order that does not exist")
        for order_id in sorted(set(snapshot.payments) - set(snapshot.orders)):
            if snapshot.payments[order_id].get("state") == "CAPTURED" and not self.moved(order_id, None):
                self.flag(Kind.ORPHAN_CAPTURE, order_id, "captured for an order that does not exist")
        for order_id in sorted(set(snapshot.reservations) - set(snapshot.orders)):
            if snapshot.reservations[order_id].get("state") == "RESERVED" and not self.moved(order_id, None):
                self.flag(Kind.ORPHAN_RESERVATION, order_id, "stock held for an order that does not exist")
        if self.settled:
            self.untracked_money()

    def untracked_money(self) -> None:
        """Processor records no payment points to: held or taken money nothing will ever give back.

        Only with `settled`: they carry no time, and the moment between the processor's answer
        and the PAY# write is a legitimate (short) window.
        """
        snapshot = self.snapshot
        tracked = {p.get("authorization_id") for p in snapshot.payments.values() if p.get("authorization_id")}
        for authorization_id, authorization in sorted(snapshot.processor_authorizations.items()):
            if authorization_id in tracked:
                continue
            if authorization.get("state") == "AUTHORIZED":
                self.flag(Kind.ORPHAN_HOLD, authorization_id, "processor authorization no payment record points to")
            for capture in snapshot.captures_of(authorization_id):
                if int(capture.get("refunded_cents") or 0) < int(capture.get("amount_cents") or 0):
                    self.flag(
                        Kind.ORPHAN_CAPTURE,
                        authorization_id,
                        f"processor capture {capture.get('capture_id')} no payment record points to",
                    )


def check_orders(
    snapshot: Snapshot,
    activity: Activity,
    *,
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
    settled: bool = False,
    read_order: OrderReader | None = None,
) -> list[Violation]:
    return _OrderRules(snapshot, activity, now=now, grace=grace, settled=settled, read_order=read_order).run()
