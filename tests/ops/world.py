"""A moto account holding the stack's tables, queues, bus, archive and state machines, by hand.

Logical ids carry made-up hashes in CDK's shape (prefix + 8 hex digits), so the toolkit finds
everything the way it does in a deployed stack; test_resources.py ties the prefixes to the
synthesized template.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeSerializer

from ops.clients import Clients
from ops.resources import (
    EVENT_ARCHIVE,
    EVENT_BUS,
    INVENTORY_TABLE,
    ORDERS_TABLE,
    PAYMENT_WORKFLOW,
    PAYMENTS_TABLE,
    RELAY_FUNCTION,
    SAGA_STATE_MACHINE,
    SHIPMENTS_TABLE,
    Resources,
)
from ops.topology import DEAD_LETTER_QUEUES

REGION = "us-east-1"
_serializer = TypeSerializer()
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(hours=1)  # long past any grace period
ROLE = "arn:aws:iam::123456789012:role/orderflow-test"
PASS = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _logical(prefix: str, n: int) -> str:
    return f"{prefix}{n:08X}"


@dataclass
class World:
    clients: Clients
    resources: Resources
    ids: dict[str, str] = field(default_factory=dict)

    def write_resources(self, path: Path) -> Path:
        """The local runner's resources file: logical id -> physical id."""
        path.write_text(json.dumps(self.ids))
        return path

    @property
    def dynamodb(self) -> Any:
        return self.clients.dynamodb

    def put(self, prefix: str, item: dict[str, Any]) -> None:
        wire = {k: _serializer.serialize(v) for k, v in item.items()}
        self.clients.dynamodb.put_item(TableName=self.resources.table(prefix), Item=wire)

    # --- items in the documented shapes (docs/architecture.md) -------------------------

    def order(
        self,
        order_id: str,
        status: str,
        *,
        flow: str = "orchestrated",
        items: list[dict[str, Any]] | None = None,
        total_cents: int = 2000,
        tax_cents: int | None = None,
        updated: datetime = OLD,
    ) -> None:
        rank = {"PENDING": 0, "RESERVED": 1, "PAID": 2, "CONFIRMED": 9, "REJECTED": 9}.get(status, 0)
        item: dict[str, Any] = {
            "order_id": order_id,
            "customer_id": "c-1",
            "flow": flow,
            "status": status,
            "status_rank": rank,
            "items": items or [{"sku": "sku-a", "quantity": 2, "unit_price_cents": 1000}],
            "total_cents": total_cents,
            "payment_ref": "kms1:c2VhbGVk",
            "correlation_id": f"corr-{order_id}",
            "created_at": iso(updated - timedelta(seconds=5)),
            "updated_at": iso(updated),
        }
        if tax_cents is not None:
            item["tax_cents"] = tax_cents
        self.put(ORDERS_TABLE, item)

    def orders_table(self) -> Any:
        return boto3.resource("dynamodb", region_name=self.clients.dynamodb.meta.region_name).Table(
            self.resources.table(ORDERS_TABLE)
        )

    def sku(self, sku: str, available: int, reserved: int, stocked: int | None = None) -> None:
        stocked = available + reserved if stocked is None else stocked
        self.put(
            INVENTORY_TABLE,
            {
                "pk": f"SKU#{sku}",
                "sku": sku,
                "available": available,
                "reserved": reserved,
                "stocked": stocked,
                "price_cents": 1000,
            },
        )

    def reservation(self, order_id: str, state: str = "RESERVED", lines: list[dict[str, Any]] | None = None) -> None:
        self.put(
            INVENTORY_TABLE,
            {
                "pk": f"RES#{order_id}",
                "order_id": order_id,
                "state": state,
                "total_cents": 2000,
                "lines": lines if lines is not None else [{"sku": "sku-a", "quantity": 2, "unit_price_cents": 1000}],
            },
        )

    def payment(
        self,
        order_id: str,
        state: str = "CAPTURED",
        *,
        amount: int = 2000,
        tax: int = 165,
        capture_id: str | None = "cap-1",
        captured: int | None = None,
        refund_id: str | None = None,
        refunded: int | None = None,
    ) -> None:
        """A PAY# record as payments writes it: amount before tax, captured = amount + tax."""
        item: dict[str, Any] = {
            "pk": f"PAY#{order_id}",
            "order_id": order_id,
            "state": state,
            "amount_cents": amount,
            "tax_cents": tax,
            "authorization_id": f"auth-{order_id}",
        }
        if state in ("CAPTURED", "REFUNDED"):
            if capture_id:
                item["capture_id"] = capture_id
            item["captured_cents"] = amount + tax if captured is None else captured
        if state == "REFUNDED":
            item["refund_id"] = refund_id or f"ref-{order_id}"
            item["refunded_cents"] = item["captured_cents"] if refunded is None else refunded
        elif refund_id:
            item["refund_id"] = refund_id
        self.put(PAYMENTS_TABLE, item)

    def processor(self, authorization_id: str, state: str, *captures: tuple[str, int, int]) -> None:
        """The simulated processor's SIM# records: an authorization and its (id, amount, refunded) captures."""
        self.put(
            PAYMENTS_TABLE,
            {
                "pk": f"SIM#AUTH#{authorization_id}",
                "authorization_id": authorization_id,
                "amount_cents": 2000,
                "max_capture_cents": 2400,
                "state": state,
            },
        )
        for capture_id, amount, refunded in captures:
            self.put(
                PAYMENTS_TABLE,
                {
                    "pk": f"SIM#CAP#{capture_id}",
                    "capture_id": capture_id,
                    "authorization_id": authorization_id,
                    "amount_cents": amount,
                    "refunded_cents": refunded,
                },
            )

    def shipment(self, order_id: str, status: str = "SCHEDULED", items: list[dict[str, Any]] | None = None) -> None:
        self.put(
            SHIPMENTS_TABLE,
            {
                "order_id": order_id,
                "shipment_id": f"shp-{order_id}",
                "status": status,
                "created_at": iso(OLD),
                "items": items if items is not None else [{"sku": "sku-a", "quantity": 2}],
            },
        )

    def confirmed(self, order_id: str, *, flow: str = "orchestrated", shipped: bool = True) -> None:
        """A fully consistent confirmed order of 2 x sku-a (the caller stocks sku-a)."""
        self.order(order_id, "CONFIRMED", flow=flow, tax_cents=165)
        self.reservation(order_id)
        self.payment(order_id)
        if shipped:
            self.shipment(order_id)

    # --- queues and executions ---------------------------------------------------------

    def queue_url(self, prefix: str) -> str:
        return self.resources.queue_url(prefix)

    def send(self, prefix: str, body: Any, attributes: dict[str, Any] | None = None) -> None:
        kwargs: dict[str, Any] = {
            "QueueUrl": self.queue_url(prefix),
            "MessageBody": body if isinstance(body, str) else json.dumps(body),
        }
        if attributes:
            kwargs["MessageAttributes"] = attributes
        self.clients.sqs.send_message(**kwargs)

    def messages(self, prefix: str) -> list[dict[str, Any]]:
        received: list[dict[str, Any]] = []
        while True:
            batch = self.clients.sqs.receive_message(
                QueueUrl=self.queue_url(prefix),
                MaxNumberOfMessages=10,
                VisibilityTimeout=60,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                return received
            received.extend(batch)

    def depth(self, prefix: str) -> int:
        attributes = self.clients.sqs.get_queue_attributes(
            QueueUrl=self.queue_url(prefix),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def start(self, prefix: str, order_id: str) -> str:
        arn = self.resources.state_machine_arn(prefix)
        return str(
            self.clients.stepfunctions.start_execution(
                stateMachineArn=arn, name=f"exec-{order_id}", input=json.dumps({"order_id": order_id})
            )["executionArn"]
        )


_SESSION: list[boto3.Session] = []


def _session() -> boto3.Session:
    """One session for every test: it caches the service models that make a client slow to build."""
    if not _SESSION:
        _SESSION.append(boto3.Session(region_name=REGION))
    return _SESSION[0]


_CLIENTS: dict[str | None, Clients] = {}


def _clients(endpoint_url: str | None) -> Clients:
    """One set of clients per endpoint for every test (about 35 ms to build): moto answers a
    client whenever a mock is active, whichever test built it, and no test changes one (they wrap
    or replace it with dataclasses.replace)."""
    if endpoint_url not in _CLIENTS:
        _CLIENTS[endpoint_url] = Clients.from_session(_session(), endpoint_url)
    return _CLIENTS[endpoint_url]


def create_world(endpoint_url: str | None = None) -> World:
    clients = _clients(endpoint_url)
    ids: dict[str, str] = {}
    n = 0x1F8332C0

    def logical(prefix: str) -> str:
        nonlocal n
        n += 1
        return _logical(prefix, n)

    tables = {
        ORDERS_TABLE: ("orderflow-orders", [("order_id", "HASH")]),
        INVENTORY_TABLE: ("orderflow-inventory", [("pk", "HASH")]),
        PAYMENTS_TABLE: ("orderflow-payments", [("pk", "HASH")]),
        SHIPMENTS_TABLE: ("orderflow-shipments", [("order_id", "HASH")]),
    }
    for prefix, (name, keys) in tables.items():
        extra: dict[str, Any] = {}
        if prefix == ORDERS_TABLE:
            extra["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        clients.dynamodb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
            AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
            BillingMode="PAY_PER_REQUEST",
            **extra,
        )
        ids[logical(prefix)] = name

    for dlq in DEAD_LETTER_QUEUES.values():
        dlq_url = clients.sqs.create_queue(QueueName=f"orderflow-{dlq.name}-dlq")["QueueUrl"]
        ids[logical(dlq.prefix)] = dlq_url
        if dlq.source_prefix:
            dlq_arn = clients.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            url = clients.sqs.create_queue(
                QueueName=f"orderflow-{dlq.name}",
                Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})},
            )["QueueUrl"]
            ids[logical(dlq.source_prefix)] = url

    bus_arn = clients.events.create_event_bus(Name="orderflow-bus")["EventBusArn"]
    ids[logical(EVENT_BUS)] = "orderflow-bus"
    clients.events.create_archive(
        ArchiveName="orderflow-archive",
        EventSourceArn=bus_arn,
        EventPattern=json.dumps({"source": [{"prefix": "orderflow."}]}),
    )
    ids[logical(EVENT_ARCHIVE)] = "orderflow-archive"

    for prefix, kind in ((SAGA_STATE_MACHINE, "EXPRESS"), (PAYMENT_WORKFLOW, "STANDARD")):
        arn = clients.stepfunctions.create_state_machine(
            name=f"orderflow-{prefix}", definition=PASS, roleArn=ROLE, type=kind
        )["stateMachineArn"]
        ids[logical(prefix)] = arn
    ids[logical(RELAY_FUNCTION)] = "orderflow-relay"
    return World(clients=clients, resources=Resources.from_dict(ids), ids=ids)
