"""The invariant checker: reads every service's table and says where the system disagrees with itself.

Rules (docs/operations.md explains each):

- stock is conserved per sku: available + reserved = stocked, neither negative, and reserved is
  the sum of the RESERVED reservations' quantities;
- CONFIRMED <=> one kept reservation with the order's lines, one capture of total + tax, and
  (once settled) one SCHEDULED shipment; with the simulated provider, its ledger (SIM#) must
  hold exactly that one capture too;
- REJECTED => no stock held, no money held or taken (refunds whole, the processor's hold
  voided), no shipment (choreographed orders compensate after the fact, so only once settled);
- a non-terminal order that nothing can move any more is LOST: no running execution for it,
  and no message in a queue or DLQ that drives orders of its flow (an orchestrated order
  moves only inside its saga, or from the saga DLQ);
- shipments, captures and held reservations belong to existing, CONFIRMED orders; processor
  money no payment record points to is flagged once settled.

Tables are read in causal order (orders first): every service writes its part of an order
before the order's status moves past it, so a status read first never runs ahead of what the
later scans see. What happens after a status (shipping, choreographed compensation) gets a
grace period, or none with `settled=True` once the system is quiet.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from ops.clients import Clients, as_clients
from ops.resources import (
    INVENTORY_TABLE,
    ORDERS_TABLE,
    PAYMENT_WORKFLOW,
    PAYMENTS_TABLE,
    SAGA_STATE_MACHINE,
    SHIPMENTS_TABLE,
    Resources,
)
from ops.topology import CONSUMER_QUEUES, DEAD_LETTER_QUEUES, MOVES_ORDERS

# Longer than the saga's 4-minute timeout, so that a synchronous execution has always ended.
DEFAULT_GRACE = timedelta(minutes=5)
STATUS_RANK = {"PENDING": 0, "RESERVED": 1, "PAID": 2, "CONFIRMED": 9, "REJECTED": 9}
TERMINAL = frozenset({"CONFIRMED", "REJECTED"})
# Payment states that leave no money taken or held from the customer.
SETTLED_UNCHARGED = frozenset({"DECLINED", "VOIDED", "REFUNDED", "FAILED"})

_deserializer = TypeDeserializer()


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


# --- reading ----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return {_plain(v) for v in value}
    return value


def _from_wire(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def scan(dynamodb: Any, table: str, page_size: int | None = None) -> Iterator[dict[str, Any]]:
    """Every item of a table: paginated, strongly consistent."""
    config = {"PageSize": page_size} if page_size else {}
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True, PaginationConfig=config)
    for page in pages:
        for item in page.get("Items", []):
            yield _from_wire(item)


def read_snapshot(dynamodb: Any, resources: Resources, progress: Progress | None = None) -> Snapshot:
    snapshot = Snapshot()
    step = progress or (lambda _: None)
    # Orders first: see the module docstring for why this order matters.
    step("orders")
    snapshot.orders = {o["order_id"]: o for o in scan(dynamodb, resources.table(ORDERS_TABLE)) if "order_id" in o}
    step("inventory")
    for item in scan(dynamodb, resources.table(INVENTORY_TABLE)):
        pk = str(item.get("pk", ""))
        if pk.startswith("SKU#"):
            snapshot.skus[item.get("sku") or pk.removeprefix("SKU#")] = item
        elif pk.startswith("RES#"):
            snapshot.reservations[item.get("order_id") or pk.removeprefix("RES#")] = item
    step("payments")
    for item in scan(dynamodb, resources.table(PAYMENTS_TABLE)):
        pk = str(item.get("pk", ""))
        if pk.startswith("PAY#"):
            snapshot.payments[item.get("order_id") or pk.removeprefix("PAY#")] = item
        elif pk.startswith("SIM#AUTH#"):
            snapshot.processor_authorizations[item.get("authorization_id") or pk.removeprefix("SIM#AUTH#")] = item
        elif pk.startswith("SIM#CAP#"):
            snapshot.processor_captures[item.get("capture_id") or pk.removeprefix("SIM#CAP#")] = item
    step("shipments")
    snapshot.shipments = {s["order_id"]: s for s in scan(dynamodb, resources.table(SHIPMENTS_TABLE)) if "order_id" in s}
    return snapshot


def queue_depth(sqs: Any, queue_url: str) -> int:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=names)["Attributes"]
    return sum(int(attributes.get(name, 0)) for name in names)


def read_activity(
    clients: Clients, resources: Resources, notes: list[str], progress: Progress | None = None
) -> Activity:
    step = progress or (lambda _: None)
    activity = Activity()
    step("queues")
    queues = {f"{name} (queue)": prefix for name, prefix in CONSUMER_QUEUES.items()}
    queues |= {f"{name} (dlq)": dlq.prefix for name, dlq in DEAD_LETTER_QUEUES.items()}
    for label, prefix in queues.items():
        activity.messages[label] = queue_depth(clients.sqs, resources.queue_url(prefix, clients.sqs))
    step("executions")
    for prefix in (SAGA_STATE_MACHINE, PAYMENT_WORKFLOW):
        arn = resources.state_machine_arn(prefix, clients.stepfunctions)
        try:
            running = _running_executions(clients.stepfunctions, arn)
        except ClientError as error:
            # ListExecutions does not serve Express machines (the saga); its runs end within its
            # 4-minute timeout, which the grace period covers.
            notes.append(f"running executions of {prefix} not listed: {error.response['Error'].get('Code')}")
            continue
        for execution in running:
            order_id = _execution_order(clients.stepfunctions, execution)
            if order_id:
                activity.running_orders.add(order_id)
            else:
                activity.unattributed_running += 1
    return activity


def _running_executions(stepfunctions: Any, arn: str) -> list[dict[str, Any]]:
    paginator = stepfunctions.get_paginator("list_executions")
    return [
        execution
        for page in paginator.paginate(stateMachineArn=arn, statusFilter="RUNNING")
        for execution in page.get("executions", [])
    ]


def _execution_order(stepfunctions: Any, execution: dict[str, Any]) -> str | None:
    """Every workflow input carries order_id (cdk/retries.py CONTEXT_FIELDS)."""
    try:
        described = stepfunctions.describe_execution(executionArn=execution["executionArn"])
        document = json.loads(described.get("input") or "{}")
    except (ClientError, ValueError):
        return None
    order_id = document.get("order_id") if isinstance(document, dict) else None
    return str(order_id) if order_id else None


def order_reader(dynamodb: Any, table: str) -> OrderReader:
    def read(order_id: str) -> dict[str, Any] | None:
        item = dynamodb.get_item(TableName=table, Key={"order_id": {"S": order_id}}, ConsistentRead=True).get("Item")
        return _from_wire(item) if item else None

    return read


# --- rules --------------------------------------------------------------------------------


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


def _is_settled(order: Mapping[str, Any], now: datetime, grace: timedelta, settled: bool) -> bool:
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
        if _is_settled(order, self.now, self.grace, self.settled) and (
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
        if order.get("flow") != "choreographed" or _is_settled(order, self.now, self.grace, self.settled):
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
        if not _is_settled(order, self.now, self.grace, self.settled):
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


def _counts(snapshot: Snapshot, activity: Activity) -> dict[str, int]:
    counts: dict[str, int] = {
        "orders": len(snapshot.orders),
        "skus": len(snapshot.skus),
        "reservations": len(snapshot.reservations),
        "payments": len(snapshot.payments),
        "shipments": len(snapshot.shipments),
        "messages waiting": activity.waiting,
        "executions running": len(activity.running_orders) + activity.unattributed_running,
    }
    for status, n in sorted(Counter(str(o.get("status")) for o in snapshot.orders.values()).items()):
        counts[f"orders {status}"] = n
    for state, n in sorted(Counter(str(r.get("state")) for r in snapshot.reservations.values()).items()):
        counts[f"reservations {state}"] = n
    for state, n in sorted(Counter(str(p.get("state")) for p in snapshot.payments.values()).items()):
        counts[f"payments {state}"] = n
    return counts


def evaluate(
    snapshot: Snapshot,
    activity: Activity,
    *,
    now: datetime | None = None,
    grace: timedelta = DEFAULT_GRACE,
    settled: bool = False,
    read_order: OrderReader | None = None,
) -> Report:
    now = now or datetime.now(UTC)
    report = Report(messages=dict(activity.messages))
    report.violations = check_stock(snapshot) + check_orders(
        snapshot, activity, now=now, grace=grace, settled=settled, read_order=read_order
    )
    report.counts = _counts(snapshot, activity)
    stalled = Counter(
        str(o.get("flow"))
        for o in snapshot.orders.values()
        if o.get("status") not in TERMINAL and _is_settled(o, now, grace, settled) and activity.moving(o.get("flow"))
    )
    for flow, n in sorted(stalled.items()):
        report.notes.append(
            f"{n} {flow} order(s) past the grace period are not terminal while {activity.moving(flow)} message(s) "
            "that can move them wait: redrive the DLQs, then check again"
        )
    return report


def check(
    session_or_clients: boto3.Session | Clients,
    resources: Resources,
    *,
    settled: bool = False,
    grace: timedelta = DEFAULT_GRACE,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> Report:
    """Read every table and queue of the stack and evaluate the invariants."""
    clients = as_clients(session_or_clients)
    started = now or datetime.now(UTC)
    snapshot = read_snapshot(clients.dynamodb, resources, progress)
    notes: list[str] = []
    activity = read_activity(clients, resources, notes, progress)
    if progress:
        progress("rules")
    report = evaluate(
        snapshot,
        activity,
        now=started,
        grace=grace,
        settled=settled,
        read_order=order_reader(clients.dynamodb, resources.table(ORDERS_TABLE)),
    )
    report.notes[:0] = notes
    return report
