"""Log lines carry the correlation id and never a payment token."""

from __future__ import annotations

import boto3
import pytest

from orders.handlers import outbox_relay, projector, saga_tasks
from orders.handlers.saga_tasks import InvalidTaskError
from shared.events import InventoryReserved, OrderLine
from tests.unit.orders.builders import eventbridge_event, order_body, sqs_event

TOKEN = "tok_visa_do_not_log_4242"
# What travels instead of the token: opaque, and not logged either.
REF = "kms1:cmVmLWRvLW5vdC1sb2ctNDI0Mg=="


def test_api_requests_log_the_correlation_id_and_not_the_token(client, saga, captured_logs) -> None:
    headers = {"X-Correlation-Id": "corr-log-1", "Idempotency-Key": "log-1"}
    client.post_order(order_body(payment={"token": TOKEN}), headers=headers)
    client.post_order(
        order_body(flow="orchestrated", payment={"token": TOKEN}), headers={"X-Correlation-Id": "corr-log-1"}
    )
    client.post_order(order_body(payment={"token": TOKEN + "x" * 200}), headers={"X-Correlation-Id": "corr-log-1"})
    saga.execution_status = "FAILED"
    client.post_order(
        order_body(flow="orchestrated", payment={"token": TOKEN}), headers={"X-Correlation-Id": "corr-log-1"}
    )

    lines = captured_logs.lines()
    assert lines, "expected the API to log"
    assert all(line.get("correlation_id") == "corr-log-1" for line in lines)
    assert TOKEN not in captured_logs.text()


def test_saga_tasks_relay_and_projector_never_log_the_token(
    aws, context, orders_stream, bus_queue, captured_logs
) -> None:
    record = {
        "action": "record",
        "order_id": "o-log",
        "customer_id": "c",
        "items": [{"sku": "SKU-1", "quantity": 1, "unit_price_cents": 100}],
        "total_cents": 100,
        "payment_ref": REF,
        "correlation_id": "corr-log-2",
        "flow": "choreographed",
    }
    saga_tasks.lambda_handler(record, context)
    with pytest.raises(InvalidTaskError):
        saga_tasks.lambda_handler({**record, "total_cents": "not cents", "payment_ref": ["x", REF]}, context)
    outbox_relay.lambda_handler(orders_stream.read_event(), context)  # publishes OrderPlaced, reference included
    # An image that is not a valid order (a legacy token present, the rest wrong) fails without quoting it.
    boto3.resource("dynamodb").Table("orders-test").put_item(
        Item={"order_id": "o-broken", "payment_token": TOKEN, "payment_ref": REF, "status": "PENDING", "items": TOKEN}
    )
    assert outbox_relay.lambda_handler(orders_stream.read_event(), context)["batchItemFailures"]
    reserved = InventoryReserved(
        order_id="o-log",
        customer_id="c",
        total_cents=100,
        payment_ref=REF,
        items=[OrderLine(sku="SKU-1", quantity=1, unit_price_cents=100)],
    )
    projector.lambda_handler(sqs_event(eventbridge_event(reserved, correlation_id="corr-log-2")), context)

    assert TOKEN not in captured_logs.text() and REF not in captured_logs.text()
    [placed] = bus_queue.drain()
    assert placed["detail"]["data"]["payment_ref"] == REF  # it did travel, just not in logs
    assert "payment_token" not in placed["detail"]["data"]
    assert any(line.get("correlation_id") == "corr-log-2" for line in captured_logs.lines())


def test_a_malformed_event_is_rejected_without_logging_its_token(aws, context, captured_logs) -> None:
    from orders.handlers import timeline

    event = eventbridge_event(
        InventoryReserved(
            order_id="o-m",
            customer_id="c",
            total_cents=100,
            payment_ref=REF,
            items=[OrderLine(sku="SKU-1", quantity=1, unit_price_cents=100)],
        )
    )
    # Missing fields: pydantic quotes the (short) data object, token included, in the error text.
    short_token = "tok_visa"
    event["detail"]["data"] = {"order_id": "o-m", "payment_token": short_token}

    assert timeline.lambda_handler(sqs_event(event), context)["batchItemFailures"]
    assert short_token not in captured_logs.text()


def test_log_lines_leave_out_what_the_log_group_already_says(client, captured_logs) -> None:
    client.post_order(order_body(), headers={"X-Correlation-Id": "corr-log-slim", "Idempotency-Key": "slim-1"})

    lines = captured_logs.lines()
    assert lines
    for line in lines:
        assert not {"function_name", "function_arn", "function_memory_size"} & set(line), line
        assert line["function_request_id"] and "cold_start" in line and line["correlation_id"] == "corr-log-slim"
