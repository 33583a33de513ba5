"""Helpers of the correctness-under-failure suite: faults, the ops toolkit, bus capture, effect snapshots.

Everything here is test setup on the running local cloud; none of it is product code.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import EndpointConnectionError

from ops import fault_document
from ops.checker import check
from ops.checker.model import Report
from ops.checker.reading import queue_depth, scan
from ops.clients import Clients, local_session
from ops.resources import INVENTORY_TABLE, ORDERS_TABLE, PAYMENTS_TABLE, SHIPMENTS_TABLE, Resources
from ops.topology import DEAD_LETTER_QUEUES

PUT_EVENTS_BATCH = 10
TERMINAL = frozenset({"CONFIRMED", "REJECTED"})


def poll(condition: Callable[[], Any], *, timeout: float, interval: float = 0.2, what: str = "condition") -> Any:
    """Calls `condition` until it returns something truthy (returned) or `timeout` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} not reached within {timeout:.0f} s (last: {result!r})")
        time.sleep(interval)


# --- the ops toolkit on the local cloud ----------------------------------------------------------


@functools.cache
def _clients(region: str, endpoint_url: str) -> Clients:
    """The toolkit's clients on one cloud, built once: eight clients are ~50 ms of every test otherwise."""
    return Clients.from_session(local_session(region), endpoint_url=endpoint_url)


@dataclass
class Ops:
    """The ops toolkit (checker, redrive, replay) pointed at the session's local cloud."""

    cloud: Any
    clients: Clients
    resources: Resources

    @classmethod
    def of(cls, cloud: Any) -> Ops:
        clients = _clients(cloud.region, cloud.endpoint_url)
        resources = Resources.from_dict({logical: r.physical_id for logical, r in cloud.resources.items()})
        return cls(cloud=cloud, clients=clients, resources=resources)

    def check(self) -> Report:
        return check(self.clients, self.resources, settled=True)

    def assert_no_violations(self) -> Report:
        """The checker finds nothing, and nothing is parked in any DLQ (a parked message is unfinished work)."""
        self.cloud.wait_idle(timeout=120)
        report = self.check()
        assert report.ok, (
            "invariant checker violations:\n"
            + "\n".join(f"  {v.kind} {v.subject}: {v.detail}" for v in report.violations)
            + f"\nnotes: {report.notes}"
        )
        parked = {label: n for label, n in report.messages.items() if n}
        if parked:
            self.purge_queues()  # this test fails; the next ones start clean instead of failing with it
        assert not parked, f"messages left in queues or DLQs: {parked}"
        return report

    def purge_queues(self) -> None:
        """Empty every dead-letter queue and the consumer queue it belongs to."""
        for queue in DEAD_LETTER_QUEUES.values():
            for prefix in (queue.prefix, queue.source_prefix):
                if prefix is not None:
                    with contextlib.suppress(Exception):  # best effort: the test has failed already
                        self.clients.sqs.purge_queue(QueueUrl=self.queue_url(prefix))

    def queue_url(self, prefix: str) -> str:
        return self.resources.queue_url(prefix, self.clients.sqs)

    def dlq_url(self, name: str) -> str:
        return self.queue_url(DEAD_LETTER_QUEUES[name].prefix)

    def source_queue_url(self, name: str) -> str:
        source = DEAD_LETTER_QUEUES[name].source_prefix
        assert source is not None, name
        return self.queue_url(source)

    def depth(self, url: str) -> int:
        return queue_depth(self.clients.sqs, url)

    def items(self, table_prefix: str, key: str = "pk") -> dict[str, dict[str, Any]]:
        """Every item of one of the stack's tables by its key (one paginated, consistent scan)."""
        return {str(item[key]): item for item in scan(self.clients.dynamodb, self.resources.table(table_prefix))}

    def payments_items(self) -> dict[str, dict[str, Any]]:
        """Every item of the payments table (PAY# records and the simulated processor's SIM# ledger)."""
        return self.items(PAYMENTS_TABLE)

    def orders(self) -> dict[str, dict[str, Any]]:
        return self.items(ORDERS_TABLE, "order_id")

    def shipments(self) -> dict[str, dict[str, Any]]:
        return self.items(SHIPMENTS_TABLE, "order_id")

    def stock(self) -> dict[str, dict[str, int]]:
        """sku -> its counters."""
        return {
            pk.removeprefix("SKU#"): {k: int(item[k]) for k in ("available", "reserved", "stocked")}
            for pk, item in self.items(INVENTORY_TABLE).items()
            if pk.startswith("SKU#")
        }

    def receive_all(self, url: str, *, delete: bool) -> list[dict[str, Any]]:
        """Every message a queue holds now (bounded: stops at the first empty receive once depth is 0)."""
        messages: dict[str, dict[str, Any]] = {}
        for _ in range(1000):
            batch = self.clients.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                VisibilityTimeout=30,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            for message in batch:
                messages.setdefault(message["MessageId"], message)
                if delete:
                    self.clients.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if not batch and (not delete or self.depth(url) == 0):
                break
        return list(messages.values())


# --- fault injection -----------------------------------------------------------------------------


def fault_parameter(cloud: Any) -> str:
    for logical_id, resource in cloud.resources.items():
        if logical_id.startswith("FaultInjection"):
            return str(resource.physical_id)
    raise LookupError("the template has no FaultInjection parameter")


class Faults:
    """Switches the fault-injection document; `clear()` (the fixture's teardown) always restores `{}`."""

    def __init__(self, cloud: Any) -> None:
        self._ssm = cloud.client("ssm")
        self._name = fault_parameter(cloud)
        # Every process re-reads the document within its cache time (ops.fault_document): the only
        # fixed wait the suite makes.
        self.settle_seconds = fault_document.settle_seconds(cloud.stack.template)

    def current(self) -> dict[str, Any]:
        return json.loads(self._ssm.get_parameter(Name=self._name)["Parameter"]["Value"] or "{}")

    def set(self, document: dict[str, Any]) -> None:
        self._ssm.put_parameter(Name=self._name, Value=json.dumps(document), Overwrite=True)
        assert self.current() == document
        # The documented settle: every process re-reads the document within its cache TTL.
        time.sleep(self.settle_seconds)

    def clear(self) -> None:
        if self.current() != {}:
            self.set({})

    @classmethod
    @contextmanager
    def cleared(cls, cloud: Any) -> Iterator[Faults]:
        """Faults switched off before and after (the fixtures' setup and teardown, whatever their scope)."""
        controller = cls(cloud)
        controller.clear()
        try:
            yield controller
        finally:
            # EndpointConnectionError: the cloud was already stopped after the last e2e test.
            with contextlib.suppress(EndpointConnectionError):
                controller.clear()

    @contextmanager
    def injected(self, document: dict[str, Any]) -> Iterator[None]:
        self.set(document)
        try:
            yield
        finally:
            self.clear()


# --- capturing the bus ---------------------------------------------------------------------------


class BusCapture:
    """A test-only rule on the app's bus, `{"source": [{"prefix": "orderflow."}]}`, feeding a test-only queue."""

    PATTERN = {"source": [{"prefix": "orderflow."}]}

    def __init__(self, ops: Ops) -> None:
        self.ops = ops
        self.name = f"test-capture-{uuid.uuid4().hex[:10]}"
        self.bus = ops.resources.bus_name()
        self.queue_url = ""
        self.events: list[dict[str, Any]] = []  # every delivery, duplicates included

    def __enter__(self) -> BusCapture:
        sqs, events = self.ops.clients.sqs, self.ops.clients.events
        self.queue_url = sqs.create_queue(QueueName=self.name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=self.name, EventBusName=self.bus, EventPattern=json.dumps(self.PATTERN), State="ENABLED")
        events.put_targets(Rule=self.name, EventBusName=self.bus, Targets=[{"Id": "capture", "Arn": arn}])
        return self

    def __exit__(self, *_: object) -> None:
        events = self.ops.clients.events
        events.remove_targets(Rule=self.name, EventBusName=self.bus, Ids=["capture"])
        events.delete_rule(Name=self.name, EventBusName=self.bus)
        self.ops.clients.sqs.delete_queue(QueueUrl=self.queue_url)

    def drain(self) -> list[dict[str, Any]]:
        """Collects what the rule delivered so far (call after wait_idle: delivery to SQS is synchronous)."""
        for message in self.ops.receive_all(self.queue_url, delete=True):
            self.events.append(json.loads(message["Body"]))
        return self.events

    def deliveries(self, event_ids: Iterable[str]) -> Counter[str]:
        """How many times the rule delivered each of these events so far."""
        wanted = set(event_ids)
        return Counter(
            e["detail"]["metadata"]["event_id"] for e in self.drain() if e["detail"]["metadata"]["event_id"] in wanted
        )

    def of_orders(self, order_ids: Iterable[str]) -> list[dict[str, Any]]:
        """The captured events of these orders, once per event id, in the order they were first seen."""
        wanted = set(order_ids)
        unique: dict[str, dict[str, Any]] = {}
        for event in self.drain():
            metadata = event["detail"]["metadata"]
            if metadata["order_id"] in wanted:
                unique.setdefault(metadata["event_id"], event)
        return list(unique.values())


def republish(ops: Ops, events: Iterable[dict[str, Any]]) -> int:
    """PutEvents of each event with its Source, DetailType and Detail (what a duplicate delivery looks like)."""
    entries = [
        {
            "EventBusName": ops.resources.bus_name(),
            "Source": event["source"],
            "DetailType": event["detail-type"],
            "Detail": json.dumps(event["detail"]),
        }
        for event in events
    ]
    for start in range(0, len(entries), PUT_EVENTS_BATCH):
        response = ops.clients.events.put_events(Entries=entries[start : start + PUT_EVENTS_BATCH])
        assert response.get("FailedEntryCount", 0) == 0, response
    return len(entries)


def detail_types(events: Iterable[dict[str, Any]], order_id: str) -> Counter[str]:
    return Counter(e["detail-type"] for e in events if e["detail"]["metadata"]["order_id"] == order_id)


# --- what the system did, to compare before and after ------------------------------------------


def timeline(orderflow: Any, order_id: str) -> list[dict[str, Any]]:
    response = orderflow.http.get(orderflow.url(f"/orders/{order_id}/timeline"), timeout=30)
    assert response.status_code == 200, response.text
    return list(response.json()["events"])


def effects(orderflow: Any, ops: Ops, order_ids: Iterable[str], skus: Iterable[str]) -> dict[str, Any]:
    """Every effect an order can have, for these orders and skus, plus the global ledger and analytics."""
    ids = sorted(order_ids)
    analytics = orderflow.table_name(orderflow.stack.notifications.table)
    orders, stock, payments, shipments = ops.orders(), ops.stock(), ops.payments_items(), ops.shipments()
    return {
        "orders": {i: orders.get(i) for i in ids},
        "stock": {sku: stock.get(sku) for sku in sorted(skus)},
        "payments": {i: payments.get(f"PAY#{i}") for i in ids},
        "ledger": {pk: item for pk, item in payments.items() if pk.startswith("SIM#")},
        "shipments": {i: shipments.get(i) for i in ids},
        "analytics": {str(item["pk"]): item for item in scan(ops.clients.dynamodb, analytics)},
        "timeline": {i: timeline(orderflow, i) for i in ids},
    }


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed between two `effects` snapshots, one line per changed entry."""
    changes = []
    for section, entries in before.items():
        for key in sorted(set(entries) | set(after[section])):
            old, new = entries.get(key), after[section].get(key)
            if old != new:
                changes.append(f"{section}[{key}]: {old!r} -> {new!r}")
    return changes


def duplicate_event_ids(events: Iterable[dict[str, Any]]) -> list[str]:
    counts = Counter(e["event_id"] for e in events)
    return sorted(event_id for event_id, n in counts.items() if n > 1)
