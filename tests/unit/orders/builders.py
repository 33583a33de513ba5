"""Builders for the events and bodies the orders tests send (plain functions, importable by tests)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from orders.domain.models import Order
from shared.events import EventData, OrderLine, new_event
from tests.support import events as support_events

REGION = "us-east-1"
ACCOUNT = "123456789012"


# order_body()'s items as the API prices them (tests/unit/orders/conftest.py's PRICES), and their total.
PRICED_LINES = [
    {"sku": "SKU-1", "quantity": 2, "unit_price_cents": 1250},
    {"sku": "SKU-2", "quantity": 1, "unit_price_cents": 499},
]
PRICED_TOTAL = 2 * 1250 + 499


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_id": "cust-42",
        "items": [{"sku": "SKU-1", "quantity": 2}, {"sku": "SKU-2", "quantity": 1}],
        "payment": {"token": "tok_visa"},
        "flow": "choreographed",
    }
    body.update(overrides)
    return body


def pending_order(
    order_id: str, flow: str = "choreographed", quantity: int = 1, unit_price_cents: int = 1000, **overrides: Any
) -> Order:
    """An order as placed (PENDING) at 2026-03-01 10:00: `quantity` of SKU-1 at `unit_price_cents`."""
    order: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": "cust-1",
        "flow": flow,
        "status": "PENDING",
        "status_rank": 0,
        "items": [OrderLine(sku="SKU-1", quantity=quantity, unit_price_cents=unit_price_cents)],
        "total_cents": quantity * unit_price_cents,
        "payment_ref": "kms1:c2VhbGVk",
        "correlation_id": f"corr-{order_id}",
        "created_at": "2026-03-01T10:00:00.000000Z",
        "updated_at": "2026-03-01T10:00:00.000000Z",
    }
    return Order(**{**order, **overrides})


def api_gateway_event(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: str | None = None
) -> dict[str, Any]:
    """A REST API (v1) Lambda proxy event, as API Gateway sends it."""
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    segments = path.strip("/").split("/")
    if len(segments) >= 2 and segments[0] == "orders":
        resource = "/orders/{order_id}" + ("/timeline" if len(segments) == 3 else "")
        path_parameters: dict[str, str] | None = {"order_id": segments[1]}
    else:
        resource, path_parameters = path, None
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "requestId": str(uuid.uuid4()),
            "accountId": ACCOUNT,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": raw if raw is not None else (None if body is None else json.dumps(body)),
        "isBase64Encoded": False,
    }


def eventbridge_event(
    data: EventData, *, flow: str = "choreographed", correlation_id: str = "corr-1", time: datetime | None = None
) -> dict[str, Any]:
    envelope = new_event(data, correlation_id=correlation_id, flow=flow, time=time)  # type: ignore[arg-type]
    return support_events.eventbridge_event(envelope)


def sqs_event(*bodies: dict[str, Any] | str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": body if isinstance(body, str) else json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-test",
                "awsRegion": REGION,
            }
            for body in bodies
        ]
    }
