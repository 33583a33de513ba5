"""The invariant checker on moto: each rule fires exactly on the state that breaks it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ops.checker import check, evaluate
from ops.checker.model import Activity, Kind, Report, Snapshot
from ops.checker.reading import scan
from ops.resources import ORDERS_TABLE, PAYMENT_WORKFLOW, SAGA_STATE_MACHINE
from tests.ops.world import NOW, World


def run(world: World, **kwargs: Any) -> Report:
    kwargs.setdefault("now", NOW)
    return check(world.clients, world.resources, **kwargs)


def kinds(report: Report) -> set[tuple[str, str]]:
    return {(str(v.kind), v.subject) for v in report.violations}


# --- a consistent world --------------------------------------------------------------------


def test_a_consistent_system_has_no_violations(world: World) -> None:
    world.sku("sku-a", available=6, reserved=4)
    world.sku("sku-b", available=3, reserved=0)
    world.confirmed("o-orch")
    world.confirmed("o-chor", flow="choreographed")
    # rejected after a decline: reservation released, payment declined
    world.order("o-declined", "REJECTED")
    world.reservation("o-declined", "RELEASED")
    world.payment("o-declined", "DECLINED", capture_id=None)
    # rejected out of stock: inventory recorded the decision, no payment at all
    world.order(
        "o-oos", "REJECTED", flow="choreographed", items=[{"sku": "sku-b", "quantity": 9, "unit_price_cents": 1000}]
    )
    world.reservation("o-oos", "REJECTED", lines=[{"sku": "sku-b", "quantity": 9, "unit_price_cents": 1000}])
    # refunded and voided compensations
    world.order("o-refunded", "REJECTED")
    world.reservation("o-refunded", "RELEASED")
    world.payment("o-refunded", "REFUNDED", refund_id="ref-1")

    report = run(world, settled=True)

    assert report.ok, report.violations
    assert report.counts["orders"] == 5
    assert report.counts["orders CONFIRMED"] == 2
    assert report.counts["reservations RESERVED"] == 2
    assert report.counts["messages waiting"] == 0


def test_scans_follow_pagination(world: World) -> None:
    for n in range(7):
        world.order(f"o-{n}", "PENDING")
    assert len(list(scan(world.dynamodb, world.resources.table(ORDERS_TABLE), page_size=2))) == 7


# --- stock -----------------------------------------------------------------------------------


def test_stock_not_conserved(world: World) -> None:
    world.sku("sku-a", available=5, reserved=0, stocked=6)
    assert kinds(run(world)) == {("STOCK_NOT_CONSERVED", "sku-a")}


def test_negative_available(world: World) -> None:
    world.sku("sku-a", available=-1, reserved=2, stocked=1)
    world.confirmed("o-1")
    assert kinds(run(world)) == {("NEGATIVE_AVAILABLE", "sku-a")}


def test_negative_reserved_also_disagrees_with_the_reservations(world: World) -> None:
    world.sku("sku-a", available=3, reserved=-1, stocked=2)
    assert kinds(run(world)) == {("NEGATIVE_RESERVED", "sku-a"), ("RESERVED_MISMATCH", "sku-a")}


def test_reserved_must_equal_the_held_reservations(world: World) -> None:
    world.sku("sku-a", available=5, reserved=3)  # the one kept reservation holds 2
    world.confirmed("o-1")
    world.order("o-2", "REJECTED")
    world.reservation("o-2", "RELEASED")  # released reservations hold nothing
    report = run(world)
    assert kinds(report) == {("RESERVED_MISMATCH", "sku-a")}
    assert "reserved 3" in report.violations[0].detail and "hold 2" in report.violations[0].detail


def test_a_reservation_of_an_unknown_sku(world: World) -> None:
    world.order("o-1", "PENDING", updated=NOW)
    world.reservation("o-1", lines=[{"sku": "ghost", "quantity": 1, "unit_price_cents": 1}])
    assert kinds(run(world)) == {("RESERVED_MISMATCH", "ghost")}


# --- CONFIRMED ---------------------------------------------------------------------------------


@pytest.mark.parametrize("state", [None, "RELEASED", "REJECTED"])
def test_confirmed_needs_a_kept_reservation(world: World, state: str | None) -> None:
    world.sku("sku-a", available=10, reserved=0)
    world.order("o-1", "CONFIRMED", tax_cents=165)
    if state:
        world.reservation("o-1", state)
    world.payment("o-1")
    world.shipment("o-1")
    assert kinds(run(world)) == {("CONFIRMED_WITHOUT_RESERVATION", "o-1")}


def test_confirmed_reservation_must_hold_the_orders_lines(world: World) -> None:
    world.sku("sku-a", available=9, reserved=1)
    world.confirmed("o-1")
    world.reservation("o-1", lines=[{"sku": "sku-a", "quantity": 1, "unit_price_cents": 1000}])
    assert kinds(run(world)) == {("RESERVATION_LINES_MISMATCH", "o-1")}


@pytest.mark.parametrize("state", [None, "AUTHORIZED", "REFUNDED", "VOIDED"])
def test_confirmed_needs_a_capture(world: World, state: str | None) -> None:
    world.sku("sku-a", available=8, reserved=2)
    world.confirmed("o-1")
    world.dynamodb.delete_item(TableName=world.resources.table("PaymentsTable"), Key={"pk": {"S": "PAY#o-1"}})
    if state:
        world.payment("o-1", state)
    assert kinds(run(world)) == {("CONFIRMED_WITHOUT_CAPTURE", "o-1")}


@pytest.mark.parametrize(
    ("payment", "fragment"),
    [
        ({"amount": 1999}, "authorized 1999 for an order total of 2000"),
        ({"captured": 2000}, "captured 2000 != total 2000 + tax 165"),
        ({"tax": 100}, "order tax 165 != payment tax 100"),
        ({"capture_id": None}, "no capture_id"),
        ({"refund_id": "ref-9"}, "refund ref-9 recorded"),
    ],
)
def test_the_capture_must_be_total_plus_tax_with_one_capture_id(
    world: World, payment: dict[str, Any], fragment: str
) -> None:
    world.sku("sku-a", available=8, reserved=2)
    world.confirmed("o-1")
    world.payment("o-1", **payment)
    report = run(world)
    assert {str(v.kind) for v in report.violations} == {"CAPTURE_MISMATCH"}
    assert any(fragment in v.detail for v in report.violations), report.violations


def test_the_order_without_tax_is_checked_against_the_payments_tax(world: World) -> None:
    world.sku("sku-a", available=8, reserved=2)
    world.confirmed("o-1")
    world.order("o-1", "CONFIRMED", tax_cents=None)  # the saga's confirm records no tax
    assert run(world).ok
    world.payment("o-1", amount=2100)
    assert kinds(run(world)) == {("CAPTURE_MISMATCH", "o-1")}


def test_a_shipment_is_owed_only_once_settled(world: World) -> None:
    world.sku("sku-a", available=8, reserved=2)
    world.confirmed("o-1", shipped=False)
    world.order("o-1", "CONFIRMED", tax_cents=165, updated=NOW - timedelta(seconds=30))

    assert run(world).ok  # shipping hears OrderConfirmed asynchronously
    assert kinds(run(world, settled=True)) == {("CONFIRMED_WITHOUT_SHIPMENT", "o-1")}
    assert kinds(run(world, grace=timedelta(seconds=10))) == {("CONFIRMED_WITHOUT_SHIPMENT", "o-1")}


def test_a_shipment_ships_the_orders_lines(world: World) -> None:
    world.sku("sku-a", available=8, reserved=2)
    world.confirmed("o-1")
    world.shipment("o-1", items=[{"sku": "sku-a", "quantity": 1}])
    assert kinds(run(world)) == {("SHIPMENT_LINES_MISMATCH", "o-1")}


def test_a_shipment_must_be_scheduled(world: World) -> None:
    world.sku("sku-a", available=8, reserved=2)
    world.confirmed("o-1")
    world.shipment("o-1", status="CANCELLED")
    assert kinds(run(world)) == {("CONFIRMED_WITHOUT_SHIPMENT", "o-1")}


# --- REJECTED ----------------------------------------------------------------------------------


def test_a_rejected_orchestrated_order_must_hold_no_stock_at_once(world: World) -> None:
    world.sku("sku-a", available=8, reserved=2)
    world.order("o-1", "REJECTED", updated=NOW)  # the saga released before it rejected
    world.reservation("o-1", "RESERVED")
    assert kinds(run(world)) == {("REJECTED_HOLDS_STOCK", "o-1")}


def test_a_rejected_choreographed_order_compensates_within_the_grace_period(world: World) -> None:
    world.sku("sku-a", available=8, reserved=2)
    world.order("o-1", "REJECTED", flow="choreographed", updated=NOW - timedelta(seconds=30))
    world.reservation("o-1", "RESERVED")
    world.payment("o-1", "CAPTURED")
    assert run(world).ok
    assert kinds(run(world, settled=True)) == {("REJECTED_HOLDS_STOCK", "o-1"), ("REJECTED_CHARGED", "o-1")}


@pytest.mark.parametrize("state", ["CAPTURED", "AUTHORIZED"])
def test_a_rejected_order_keeps_no_money(world: World, state: str) -> None:
    world.order("o-1", "REJECTED")
    world.payment("o-1", state)
    report = run(world)
    assert kinds(report) == {("REJECTED_CHARGED", "o-1")}
    assert state in report.violations[0].detail


def test_a_partial_refund_keeps_money(world: World) -> None:
    world.order("o-1", "REJECTED")
    world.payment("o-1", "REFUNDED", refunded=1000)
    report = run(world)
    assert kinds(report) == {("REJECTED_CHARGED", "o-1")}
    assert "refunded 1000 of 2165" in report.violations[0].detail


@pytest.mark.parametrize("state", ["DECLINED", "VOIDED", "REFUNDED", "FAILED"])
def test_a_rejected_order_may_have_an_uncharged_payment(world: World, state: str) -> None:
    world.order("o-1", "REJECTED")
    world.payment("o-1", state)
    assert run(world, settled=True).ok


def test_a_rejected_order_never_ships(world: World) -> None:
    world.order("o-1", "REJECTED", updated=NOW)
    world.shipment("o-1")
    assert kinds(run(world)) == {("REJECTED_SHIPPED", "o-1")}


# --- the simulated processor's own records -------------------------------------------------------


def test_the_processor_agrees_with_a_confirmed_payment(world: World) -> None:
    world.sku("sku-a", available=8, reserved=2)
    world.confirmed("o-1")
    world.processor("auth-o-1", "CAPTURED", ("cap-1", 2165, 0))
    assert run(world, settled=True).ok


@pytest.mark.parametrize(
    ("captures", "fragment"),
    [
        ([("cap-1", 2165, 0), ("cap-2", 2165, 0)], "processor holds 2 captures"),
        ([], "processor holds 0 captures"),
        ([("cap-1", 2000, 0)], "processor captured 2000, payment records 2165"),
        ([("cap-x", 2165, 0)], "processor captured cap-x, payment records cap-1"),
        ([("cap-1", 2165, 2165)], "processor refunded 2165 of a kept capture"),
    ],
)
def test_a_confirmed_order_has_exactly_one_capture_at_the_processor(
    world: World, captures: list[tuple[str, int, int]], fragment: str
) -> None:
    world.sku("sku-a", available=8, reserved=2)
    world.confirmed("o-1")
    world.processor("auth-o-1", "CAPTURED", *captures)
    report = run(world)
    assert {str(v.kind) for v in report.violations} == {"CAPTURE_MISMATCH"}
    assert any(fragment in v.detail for v in report.violations), report.violations


@pytest.mark.parametrize(
    ("payment", "processor", "fragment"),
    [
        ("VOIDED", ("AUTHORIZED",), "processor still holds authorization auth-o-1"),
        ("REFUNDED", ("CAPTURED", ("cap-1", 2165, 0)), "processor capture cap-1 refunded 0 of 2165"),
    ],
)
def test_a_rejected_order_keeps_no_money_at_the_processor(
    world: World, payment: str, processor: tuple[Any, ...], fragment: str
) -> None:
    world.order("o-1", "REJECTED")
    world.payment("o-1", payment)
    world.processor("auth-o-1", *processor)
    report = run(world)
    assert kinds(report) == {("REJECTED_CHARGED", "o-1")}
    assert fragment in report.violations[0].detail


def test_rejected_orders_processor_records_when_compensated(world: World) -> None:
    world.order("o-1", "REJECTED")
    world.payment("o-1", "REFUNDED")
    world.processor("auth-o-1", "CAPTURED", ("cap-1", 2165, 2165))
    world.order("o-2", "REJECTED")
    world.payment("o-2", "VOIDED")
    world.processor("auth-o-2", "VOIDED")
    assert run(world, settled=True).ok


def test_processor_money_no_payment_points_to_is_flagged_once_settled(world: World) -> None:
    world.processor("auth-lost", "AUTHORIZED")
    world.processor("auth-taken", "CAPTURED", ("cap-9", 2165, 0))
    world.processor("auth-given-back", "CAPTURED", ("cap-8", 2165, 2165))
    world.processor("auth-voided", "VOIDED")
    assert run(world).ok  # no timestamps: a write in flight looks the same
    assert kinds(run(world, settled=True)) == {("ORPHAN_HOLD", "auth-lost"), ("ORPHAN_CAPTURE", "auth-taken")}


# --- LOST ----------------------------------------------------------------------------------------


def test_a_stuck_order_with_nothing_left_to_move_it_is_lost(world: World) -> None:
    world.order("o-1", "PENDING", flow="choreographed")
    world.order("o-2", "RESERVED", flow="choreographed")
    world.order("o-3", "PAID")
    assert kinds(run(world)) == {("LOST", "o-1"), ("LOST", "o-2"), ("LOST", "o-3")}


@pytest.mark.parametrize(
    ("prefix", "drives_choreography"),
    [
        ("InventoryEventsQueue", True),
        ("PaymentsEventsDeadLetterQueue", True),
        ("OrdersProjectionEventsQueue", True),
        ("OrdersRelayDeadLetterQueue", True),
        ("EventBusDeliveryDeadLetterQueue", True),
        ("ShippingEventsQueue", False),
        ("NotificationsEventsDeadLetterQueue", False),
        ("OrdersTimelineEventsQueue", False),
    ],
)
def test_a_message_that_drives_choreography_can_still_move_it_one_that_only_follows_orders_cannot(
    world: World, prefix: str, drives_choreography: bool
) -> None:
    world.order("o-1", "PENDING", flow="choreographed")
    world.send(prefix, {"any": "message"})
    report = run(world)
    if drives_choreography:
        assert report.ok
        assert report.counts["messages waiting"] == 1
        assert any("redrive" in note for note in report.notes)
    else:
        assert kinds(report) == {("LOST", "o-1")}


def test_only_its_saga_moves_an_orchestrated_order(world: World) -> None:
    world.order("o-1", "PENDING", flow="orchestrated")
    world.order("o-2", "PENDING", flow="choreographed")
    world.send("InventoryEventsQueue", {"any": "message"})
    assert kinds(run(world)) == {("LOST", "o-1")}
    world.send("OrderSagaSagaDeadLetterQueue", {"order_id": "o-1"})  # a parked saga: redrive runs it again
    assert run(world).ok


def test_a_running_saga_moves_an_orchestrated_order(world: World) -> None:
    world.order("o-1", "PENDING", flow="orchestrated")
    world.start(SAGA_STATE_MACHINE, "o-1")
    assert run(world).ok


def test_a_parked_payment_workflow_can_still_move_a_choreographed_order(world: World) -> None:
    world.order("o-1", "RESERVED", flow="choreographed")
    world.send("PaymentsWorkflowDeadLetterQueue", {"order_id": "o-1"})
    assert run(world).ok


def test_a_message_in_flight_counts_too(world: World) -> None:
    world.order("o-1", "PENDING", flow="choreographed")
    world.send("PaymentsEventsQueue", {"any": "message"})
    world.messages("PaymentsEventsQueue")  # received, not deleted: NotVisible
    assert run(world).ok


def test_a_running_execution_for_the_order_can_still_move_it(world: World) -> None:
    world.order("o-1", "RESERVED", flow="choreographed")
    world.order("o-2", "RESERVED", flow="choreographed")
    world.start(PAYMENT_WORKFLOW, "o-1")
    assert kinds(run(world)) == {("LOST", "o-2")}


def test_a_young_order_is_not_lost_unless_settled(world: World) -> None:
    world.order("o-1", "PENDING", updated=NOW - timedelta(seconds=10))
    assert run(world).ok
    assert kinds(run(world, settled=True)) == {("LOST", "o-1")}


def test_an_unlistable_state_machine_is_noted(world: World) -> None:
    real = world.clients.stepfunctions
    saga = world.resources.state_machine_arn(SAGA_STATE_MACHINE)

    class ExpressRefusing:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def get_paginator(self, name: str) -> Any:
            paginator = real.get_paginator(name)

            class Guard:
                def paginate(self, **kwargs: Any) -> Any:
                    if kwargs.get("stateMachineArn") == saga:
                        raise ClientError({"Error": {"Code": "StateMachineTypeNotSupported"}}, "ListExecutions")
                    return paginator.paginate(**kwargs)

            return Guard()

    clients = dataclasses.replace(world.clients, stepfunctions=ExpressRefusing())
    world.order("o-1", "PENDING")
    report = check(clients, world.resources, now=NOW)
    assert kinds(report) == {("LOST", "o-1")}
    assert any("StateMachineTypeNotSupported" in note for note in report.notes)


# --- orphans -------------------------------------------------------------------------------------


def test_a_shipment_needs_a_confirmed_order(world: World) -> None:
    world.shipment("o-missing")
    world.order("o-pending", "PENDING", updated=NOW)
    world.shipment("o-pending")
    assert kinds(run(world)) == {("ORPHAN_SHIPMENT", "o-missing"), ("ORPHAN_SHIPMENT", "o-pending")}


def test_a_capture_needs_a_confirmed_order(world: World) -> None:
    world.payment("o-missing", "CAPTURED")
    world.payment("o-declined-only", "DECLINED")  # not money taken: no order needed to judge it
    world.order("o-paid", "RESERVED", flow="choreographed")
    world.payment("o-paid", "CAPTURED")
    world.send("OrdersProjectionEventsQueue", {"PaymentCompleted": "o-paid"})  # keeps it from LOST
    assert kinds(run(world)) == {("ORPHAN_CAPTURE", "o-missing"), ("ORPHAN_CAPTURE", "o-paid")}


def test_held_stock_needs_an_order(world: World) -> None:
    world.sku("sku-a", available=8, reserved=2)
    world.reservation("o-missing", "RESERVED")
    world.reservation("o-gone", "RELEASED")
    assert kinds(run(world)) == {("ORPHAN_RESERVATION", "o-missing")}


def test_an_order_that_appeared_after_the_scan_is_not_an_orphan() -> None:
    snapshot = Snapshot(shipments={"o-new": {"order_id": "o-new", "status": "SCHEDULED"}})
    fresh = {"order_id": "o-new", "status": "CONFIRMED"}
    assert evaluate(snapshot, Activity(), now=NOW, read_order=lambda _: fresh).ok
    assert not evaluate(snapshot, Activity(), now=NOW, read_order=lambda _: None).ok


def test_an_order_that_moved_after_the_scan_is_not_lost() -> None:
    order = {"order_id": "o-1", "status": "PENDING", "status_rank": 0, "updated_at": "2000-01-01T00:00:00Z"}
    snapshot = Snapshot(orders={"o-1": order})
    moved = {**order, "status": "CONFIRMED"}
    assert evaluate(snapshot, Activity(), now=NOW, read_order=lambda _: moved).ok
    assert [v.kind for v in evaluate(snapshot, Activity(), now=NOW, read_order=lambda _: order).violations] == [
        Kind.LOST
    ]


def test_status_and_rank_must_agree(world: World) -> None:
    world.order("o-1", "PENDING", updated=NOW)
    world.put(ORDERS_TABLE, {"order_id": "o-2", "status": "SHIPPED", "status_rank": 3, "updated_at": "x"})
    table = world.resources.table(ORDERS_TABLE)
    world.dynamodb.update_item(
        TableName=table,
        Key={"order_id": {"S": "o-1"}},
        UpdateExpression="SET status_rank = :r",
        ExpressionAttributeValues={":r": {"N": "9"}},
    )
    assert kinds(run(world)) == {("INVALID_STATUS", "o-1"), ("INVALID_STATUS", "o-2")}


def test_report_serializes() -> None:
    report = evaluate(
        Snapshot(skus={"s": {"sku": "s", "available": 1, "reserved": 0, "stocked": 2}}), Activity(), now=NOW
    )
    document = report.to_dict()
    assert document["ok"] is False
    assert document["violations"] == [
        {"kind": "STOCK_NOT_CONSERVED", "subject": "s", "detail": "available 1 + reserved 0 != stocked 2"}
    ]
