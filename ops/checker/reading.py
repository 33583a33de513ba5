"""Reading the stack for the checker: every table (in causal order), the queues, the running executions."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from ops.checker.model import (
    Activity,
    OrderReader,
    Progress,
    Snapshot,
)
from ops.clients import Clients
from ops.resources import (
    INVENTORY_TABLE,
    ORDERS_TABLE,
    PAYMENT_WORKFLOW,
    PAYMENTS_TABLE,
    SAGA_STATE_MACHINE,
    SHIPMENTS_TABLE,
    Resources,
)
from ops.topology import CONSUMER_QUEUES, DEAD_LETTER_QUEUES

_deserializer = TypeDeserializer()


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


def _by_pk_prefix(items: Iterator[dict[str, Any]], kinds: dict[str, tuple[str, dict[str, dict[str, Any]]]]) -> None:
    """Each item into the mapping its pk's prefix names, keyed by its own attribute (else the pk's rest)."""
    for item in items:
        pk = str(item.get("pk", ""))
        for prefix, (key, into) in kinds.items():
            if pk.startswith(prefix):
                into[item.get(key) or pk.removeprefix(prefix)] = item
                break


def read_snapshot(dynamodb: Any, resources: Resources, progress: Progress | None = None) -> Snapshot:
    snapshot = Snapshot()
    step = progress or (lambda _: None)
    # Orders first: see the module docstring for why this order matters.
    step("orders")
    snapshot.orders = {o["order_id"]: o for o in scan(dynamodb, resources.table(ORDERS_TABLE)) if "order_id" in o}
    step("inventory")
    _by_pk_prefix(
        scan(dynamodb, resources.table(INVENTORY_TABLE)),
        {"SKU#": ("sku", snapshot.skus), "RES#": ("order_id", snapshot.reservations)},
    )
    step("payments")
    _by_pk_prefix(
        scan(dynamodb, resources.table(PAYMENTS_TABLE)),
        {
            "PAY#": ("order_id", snapshot.payments),
            "SIM#AUTH#": ("authorization_id", snapshot.processor_authorizations),
            "SIM#CAP#": ("capture_id", snapshot.processor_captures),
        },
    )
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
