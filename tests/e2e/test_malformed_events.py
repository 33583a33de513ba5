"""Malformed events on the bus: refused before anything is applied, retried, parked in the DLQ.

Each malformed event is an OrderPlaced from orderflow.orders on the choreographed flow, so the
inventory consumer's rule (reserve on OrderPlaced) and the timeline's rule (every orderflow.*
event) both deliver it; one more, whose detail is not an object, goes to the inventory
consumer's queue directly (EventBridge accepts only object details). Each consumer must refuse
each event on every receive, naming the problem in a "malformed event rejected" log line, until
the queue parks it in its DLQ after maxReceiveCount; nothing may be reserved, recorded or
changed; and a valid order placed meanwhile goes through.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.events import event_metadata

pytestmark = pytest.mark.e2e

MAX_RECEIVE_COUNT = 5  # cdk/common.py: every consumer queue's redrive policy
DLQ_TIMEOUT = 60.0


@dataclass(frozen=True)
class Case:
    name: str
    detail: Callable[[str, str, str], Any]  # (order id, sku, an existing order id) -> EventBridge detail
    problem: tuple[str, ...]  # what the log line must name


def _metadata(order_id: str, **overrides: Any) -> dict[str, Any]:
    return event_metadata(order_id, correlation_id=f"corr-malformed-{uuid.uuid4().hex[:8]}", **overrides)


def _data(order_id: str, sku: str, **overrides: Any) -> dict[str, Any]:
    """An OrderPlaced's data that would reserve 2 of `sku` if a consumer let it through."""
    data = {
        "order_id": order_id,
        "customer_id": "c-malformed",
        "items": [{"sku": sku, "quantity": 2, "unit_price_cents": 1000}],
        "total_cents": 2000,
        "payment_ref": "kms1:c2VhbGVk",
    }
    data.update(overrides)
    return data


def _without(mapping: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k not in keys}


CASES = [
    Case(
        "wrong schema version",
        # 1.0: OrderPlaced's retired contract
        lambda oid, sku, _: {"metadata": _metadata(oid, schema_version="1.0"), "data": _data(oid, sku)},
        ("schema_version", "literal_error"),
    ),
    Case(
        "missing data fields",
        lambda oid, sku, _: {
            "metadata": _metadata(oid),
            "data": _without(_data(oid, sku), "customer_id", "total_cents"),
        },
        ("customer_id: missing", "total_cents: missing"),
    ),
    Case(
        "missing metadata field",
        lambda oid, sku, _: {"metadata": _without(_metadata(oid), "event_id"), "data": _data(oid, sku)},
        ("event_id: missing",),
    ),
    Case(
        "extra field",
        lambda oid, sku, _: {"metadata": _metadata(oid), "data": _data(oid, sku, coupon="FREE")},
        ("coupon: extra_forbidden",),
    ),
    Case(
        "data not an object",
        lambda oid, sku, _: {"metadata": _metadata(oid), "data": [_data(oid, sku)]},
        ("data: dict_type",),
    ),
    # metadata names an order that exists: a consumer that trusted it would touch that order.
    Case(
        "metadata and data name different orders",
        lambda oid, sku, existing: {"metadata": _metadata(existing), "data": _data(oid, sku)},
        ("metadata.order_id", "data.order_id"),
    ),
]
CASE_NAMES = [case.name for case in CASES]


@dataclass
class Parked:
    """A malformed event as it was sent, and the DLQ messages it became."""

    case: Case
    order_id: str
    event_id: str
    dead: dict[str, dict[str, Any]]  # consumer -> its DLQ message


@dataclass
class World:
    parked: list[Parked]
    sku: str
    stock_before: dict[str, int]
    existing_order: str
    existing_before: dict[str, Any]
    existing_timeline: list[Any]
    valid_order: str
    consumers: dict[str, str]  # name -> function logical id
    not_an_object: dict[str, Any]  # the DLQ message of an event whose detail is a string


def _logical_id(orderflow, construct: Any) -> str:
    return orderflow.stack.get_logical_id(construct.node.default_child)


def _receive_until(sqs, queue_url: str, wanted: set[str], key) -> dict[str, dict[str, Any]]:
    """Polls a DLQ (long polls, no sleeps) until a message for every id in `wanted` is there;
    messages are received with visibility 0, so nothing is hidden from anyone else."""
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + DLQ_TIMEOUT
    while set(found) < wanted:
        assert time.monotonic() < deadline, (
            f"not in {queue_url.rsplit('/', 1)[-1]} after {DLQ_TIMEOUT} s: {wanted - set(found)}"
        )
        for message in sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            VisibilityTimeout=0,
            MessageSystemAttributeNames=["All"],
        ).get("Messages", []):
            ident = key(message)
            if ident in wanted:
                found[ident] = message
    return found


@pytest.fixture(scope="module")
def world(orderflow) -> World:
    stack, cloud = orderflow.stack, orderflow.cloud
    sku = f"malformed-{uuid.uuid4().hex[:8]}"
    orderflow.put_stock(sku, available=10)
    existing = orderflow.order([(sku, 1)], flow="choreographed")
    assert existing.status_code == 202, existing.text
    existing_order = existing.json()["order_id"]
    cloud.wait_idle()
    existing_before = orderflow.order_item(existing_order)
    assert existing_before["status"] == "CONFIRMED"
    existing_timeline = orderflow.http.get(orderflow.url(f"/orders/{existing_order}/timeline")).json()["events"]
    stock_before = orderflow.stock(sku)

    bus = cloud.physical_id(_logical_id(orderflow, stack.bus.bus))
    cases = [(case, f"malformed-{uuid.uuid4()}") for case in CASES]
    entries = [
        {
            "EventBusName": bus,
            "Source": "orderflow.orders",
            "DetailType": "OrderPlaced",
            "Detail": json.dumps(case.detail(order_id, sku, existing_order)),
        }
        for case, order_id in cases
    ]
    put = cloud.client("events").put_events(Entries=entries)
    assert put["FailedEntryCount"] == 0, put["Entries"]
    # EventBridge takes only a JSON object as detail, so this one goes straight to the inventory
    # consumer's queue, as any principal with sqs:SendMessage on it could send it.
    sqs = cloud.client("sqs")
    inventory_queue = cloud.physical_id(_logical_id(orderflow, stack.inventory.events.queue))
    raw_id = str(uuid.uuid4())
    raw = {
        "version": "0",
        "id": raw_id,
        "detail-type": "OrderPlaced",
        "source": "orderflow.orders",
        "account": cloud.account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": cloud.region,
        "resources": [],
        "detail": "an OrderPlaced, honestly",
    }
    sent = sqs.send_message(QueueUrl=inventory_queue, MessageBody=json.dumps(raw))
    # A valid order in the same period, through the same queues.
    valid = orderflow.order([(sku, 3)], flow="choreographed")
    assert valid.status_code == 202, valid.text

    dlqs = {
        "inventory": cloud.physical_id(_logical_id(orderflow, stack.inventory.events.dlq)),
        "timeline": cloud.physical_id(_logical_id(orderflow, stack.orders.timeline_events.dlq)),
    }
    event_ids = [entry["EventId"] for entry in put["Entries"]]
    parked = {
        event_id: Parked(case=c, order_id=order_id, event_id=event_id, dead={})
        for (c, order_id), event_id in zip(cases, event_ids, strict=True)
    }
    not_an_object: dict[str, Any] = {}
    for consumer, url in dlqs.items():
        wanted = set(event_ids) | ({raw_id} if consumer == "inventory" else set())
        found = _receive_until(sqs, url, wanted, key=lambda m: json.loads(m["Body"]).get("id"))
        for event_id, message in found.items():
            if event_id == raw_id:
                not_an_object = message
            else:
                parked[event_id].dead[consumer] = message
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])  # leave the DLQs as found
    assert not_an_object["MessageId"] == sent["MessageId"]
    cloud.wait_idle()
    return World(
        parked=list(parked.values()),
        sku=sku,
        stock_before=stock_before,
        existing_order=existing_order,
        existing_before=existing_before,
        existing_timeline=existing_timeline,
        valid_order=valid.json()["order_id"],
        consumers={
            "inventory": _logical_id(orderflow, stack.inventory.consumer.function),
            "timeline": _logical_id(orderflow, stack.orders.timeline.function),
        },
        not_an_object=not_an_object,
    )


def _rejections(orderflow, function: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in orderflow.cloud.logs(function) if line.startswith("{")]
    return [line for line in lines if line.get("message") == "malformed event rejected"]


def _parked(world: World, name: str) -> Parked:
    return next(p for p in world.parked if p.case.name == name)


@pytest.mark.parametrize("name", CASE_NAMES)
@pytest.mark.parametrize("consumer", ["inventory", "timeline"])
def test_a_malformed_event_is_retried_then_parked_with_a_log_line_naming_the_problem(orderflow, world, name, consumer):
    parked = _parked(world, name)
    message = parked.dead[consumer]  # the fixture found it in this consumer's DLQ
    assert json.loads(message["Body"])["detail-type"] == "OrderPlaced"
    assert int(message["Attributes"]["ApproximateReceiveCount"]) > MAX_RECEIVE_COUNT

    rejections = [
        r for r in _rejections(orderflow, world.consumers[consumer]) if r.get("message_id") == message["MessageId"]
    ]

    # Refused on every delivery, never applied in between, then parked.
    assert len(rejections) == MAX_RECEIVE_COUNT, rejections
    for rejection in rejections:
        for fragment in parked.case.problem:
            assert fragment in rejection["error"], (name, rejection["error"])
        assert rejection["level"] == "ERROR"


@pytest.mark.parametrize("name", CASE_NAMES)
def test_nothing_of_a_malformed_event_is_applied(orderflow, world, name):
    parked = _parked(world, name)
    assert orderflow.item(orderflow.stack.inventory.table, {"pk": f"RES#{parked.order_id}"}) is None
    assert orderflow.order_item(parked.order_id) is None
    assert orderflow.payment(parked.order_id) is None
    assert orderflow.shipment(parked.order_id) is None
    timeline = orderflow.http.get(orderflow.url(f"/orders/{parked.order_id}/timeline"))
    assert timeline.status_code == 404 or timeline.json()["events"] == [], timeline.text


def test_stock_and_the_existing_order_are_untouched(orderflow, world):
    valid = orderflow.order_item(world.valid_order)
    assert valid["status"] == "CONFIRMED"
    # Only the valid order's 3 moved; none of the malformed events' 2s.
    assert orderflow.stock(world.sku) == {
        "available": world.stock_before["available"] - 3,
        "reserved": world.stock_before["reserved"] + 3,
        "stocked": world.stock_before["stocked"],
    }
    assert orderflow.order_item(world.existing_order) == world.existing_before
    timeline = orderflow.http.get(orderflow.url(f"/orders/{world.existing_order}/timeline")).json()["events"]
    assert timeline == world.existing_timeline


def test_a_valid_order_in_the_same_period_is_processed_normally(orderflow, world):
    order = orderflow.http.get(orderflow.url(f"/orders/{world.valid_order}")).json()
    assert order["status"] == "CONFIRMED", order
    assert orderflow.payment(world.valid_order)["state"] == "CAPTURED"
    assert orderflow.shipment(world.valid_order)["status"] == "SCHEDULED"
    events = orderflow.http.get(orderflow.url(f"/orders/{world.valid_order}/timeline")).json()["events"]
    assert [e["detail_type"] for e in events] == [
        "OrderPlaced",
        "InventoryReserved",
        "PaymentCompleted",
        "OrderConfirmed",
        "ShipmentScheduled",
    ]


def test_a_detail_that_is_not_an_object_is_parked_too(orderflow, world):
    message = world.not_an_object  # the fixture found it in the inventory consumer's DLQ
    rejections = [
        r for r in _rejections(orderflow, world.consumers["inventory"]) if r.get("message_id") == message["MessageId"]
    ]
    assert len(rejections) == MAX_RECEIVE_COUNT, rejections
    assert all("detail of OrderPlaced is str, not an object" in r["error"] for r in rejections), rejections
