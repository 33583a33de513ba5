"""inventory-tasks and inventory-consumer through their Lambda handlers; events read off a real (moto) bus."""

from __future__ import annotations

import json

import boto3
import pytest

from inventory.dependencies import worker_inventory
from inventory.handlers import consumer, saga_tasks
from shared.events import OrderPlaced, OrderRejected, PaymentFailed, event_id_for, new_event
from tests.support.consumer import assert_refused_without_effects
from tests.support.events import saga_task

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")


def seed(sku: str, available: int, price: int = 500) -> None:
    worker_inventory().set_stock(sku, available, price)


def reserve_task(order_id: str, **overrides):
    # the saga passes its whole state; earlier results ride along
    state = {"customer_id": "cust-9", "correlation_id": "corr-9", "record": {"result": {"status": "PENDING"}}}
    return saga_task("reserve", order_id, sku="apple", unit_price_cents=500, **{**state, **overrides})


def test_saga_reserve_returns_the_contract_result_and_puts_the_event_on_the_bus(table, bus, context, capsys):
    seed("apple", 5)

    result = saga_tasks.lambda_handler(reserve_task("o-1"), context)

    assert result == {"status": "RESERVED", "total_cents": 1000}
    [event] = bus.drain()
    assert event["source"] == "orderflow.inventory"
    assert event["detail-type"] == "InventoryReserved"
    assert event["detail"]["metadata"]["event_id"] == event_id_for("o-1", "InventoryReserved")
    assert event["detail"]["metadata"]["flow"] == "orchestrated"
    assert event["detail"]["data"]["payment_ref"] == "kms1:c2VhbGVk"
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any("StockReserved" in metric for metric in emitted)


def test_saga_reserve_out_of_stock_is_a_result_not_an_error(table, bus, context, capsys):
    seed("apple", 1)

    result = saga_tasks.lambda_handler(reserve_task("o-2"), context)

    assert result == {"status": "REJECTED", "reason": "OUT_OF_STOCK", "sku": "apple"}
    assert [e["detail-type"] for e in bus.drain()] == ["InventoryRejected"]
    assert "OrderRejectedOutOfStock" in capsys.readouterr().out


def test_saga_release_returns_released_and_announces_only_when_stock_moved(table, bus, context):
    seed("apple", 5)
    saga_tasks.lambda_handler(reserve_task("o-3"), context)
    bus.drain()

    release = {"action": "release", "order_id": "o-3", "correlation_id": "corr-9", "flow": "orchestrated"}
    assert saga_tasks.lambda_handler(release, context) == {"status": "RELEASED"}
    assert [e["detail-type"] for e in bus.drain()] == ["InventoryReleased"]
    assert worker_inventory().get_stock("apple").available == 5

    nothing = {"action": "release", "order_id": "o-never", "correlation_id": "corr-9", "flow": "orchestrated"}
    assert saga_tasks.lambda_handler(nothing, context) == {"status": "RELEASED"}
    assert bus.drain() == []


@pytest.mark.parametrize(
    "task",
    [
        {"action": "explode", "order_id": "o", "correlation_id": "c", "flow": "orchestrated"},
        reserve_task("o-4", items=[]),
        reserve_task("o-4", flow="sideways"),
        reserve_task("o-4", items=[{"sku": "apple", "quantity": 0, "unit_price_cents": 500}]),
    ],
)
def test_malformed_task_raises_before_anything_is_written(table, bus, scan_items, task):
    assert_refused_without_effects(saga_tasks, task, scan_items, bus.drain)


def test_storage_fault_propagates_for_the_state_machine_to_retry(aws, bus, context):
    # no table: the reserve cannot even read; the exception escapes with its own class name
    with pytest.raises(Exception) as raised:
        saga_tasks.lambda_handler(reserve_task("o-5"), context)
    assert type(raised.value).__name__ == "ResourceNotFoundException"


def placed(order_id: str, flow: str = "choreographed", quantity: int = 2):
    return new_event(
        OrderPlaced(
            order_id=order_id,
            customer_id="cust-3",
            items=[{"sku": "apple", "quantity": quantity, "unit_price_cents": 500}],
            total_cents=500 * quantity,
            payment_ref="kms1:c2VhbGVk",
        ),
        correlation_id=f"corr-{order_id}",
        flow=flow,
    )


def test_consumer_reserves_a_choreographed_order(table, bus, context, sqs_batch, as_eventbridge):
    seed("apple", 5)

    response = consumer.lambda_handler(sqs_batch(as_eventbridge(placed("o-10"))), context)

    assert response == {"batchItemFailures": []}
    assert worker_inventory().get_stock("apple").reserved == 2
    [event] = bus.drain()
    assert event["detail-type"] == "InventoryReserved"
    assert event["detail"]["metadata"]["flow"] == "choreographed"
    assert event["detail"]["metadata"]["correlation_id"] == "corr-o-10"


def test_consumer_leaves_orchestrated_orders_to_the_saga(table, bus, context, sqs_batch, as_eventbridge):
    seed("apple", 5)

    response = consumer.lambda_handler(sqs_batch(as_eventbridge(placed("o-11", flow="orchestrated"))), context)

    assert response == {"batchItemFailures": []}
    assert worker_inventory().get_stock("apple").reserved == 0
    assert bus.drain() == []


def test_consumer_releases_on_payment_failed_and_order_rejected(table, bus, context, sqs_batch, as_eventbridge):
    seed("apple", 5)
    consumer.lambda_handler(sqs_batch(as_eventbridge(placed("o-12"))), context)
    bus.drain()
    failed = new_event(
        PaymentFailed(order_id="o-12", reason="PAYMENT_DECLINED"), correlation_id="c", flow="choreographed"
    )
    rejected = new_event(
        OrderRejected(order_id="o-12", customer_id="cust-3", reason="PAYMENT_DECLINED"),
        correlation_id="c",
        flow="choreographed",
    )

    response = consumer.lambda_handler(sqs_batch(as_eventbridge(failed), as_eventbridge(rejected)), context)

    assert response == {"batchItemFailures": []}
    assert worker_inventory().get_stock("apple").available == 5
    released = [e for e in bus.drain() if e["detail-type"] == "InventoryReleased"]
    assert len(released) == 2, "announced once, re-announced by the duplicate release"
    assert len({e["detail"]["metadata"]["event_id"] for e in released}) == 1


def test_consumer_reports_a_malformed_record_and_applies_the_rest(
    table, bus, context, sqs_batch, as_eventbridge, scan_items
):
    seed("apple", 5)
    bad = as_eventbridge(placed("o-13"))
    bad["detail"]["data"]["total_cents"] = "lots"

    response = consumer.lambda_handler(sqs_batch(bad, as_eventbridge(placed("o-14"))), context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    reservations = [i["pk"]["S"] for i in scan_items() if i["pk"]["S"].startswith("RES#")]
    assert reservations == ["RES#o-14"]


def test_consumer_fails_the_record_when_the_bus_refuses(table, context, sqs_batch, as_eventbridge):
    """No bus exists: the reservation commits, publishing fails, the record is retried (and re-announced)."""
    seed("apple", 5)

    response = consumer.lambda_handler(sqs_batch(as_eventbridge(placed("o-15"))), context)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}

    assert worker_inventory().get_stock("apple").reserved == 2
    boto3.client("events").create_event_bus(Name="orderflow-test")
    retried = consumer.lambda_handler(sqs_batch(as_eventbridge(placed("o-15"))), context)
    assert retried == {"batchItemFailures": []}
    assert worker_inventory().get_stock("apple").reserved == 2
