"""payments-tasks and payments-consumer through their Lambda handlers, on moto (bus, table, Step Functions)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any
from unittest.mock import ANY

import boto3
import pytest
from pydantic import ValidationError

from payments.domain.errors import ChargeDeadlineExceeded
from payments.handlers import consumer, tasks
from shared import dependencies, faults
from shared.events import InventoryReserved, OrderRejected, new_event
from shared.faults import LostResponse
from tests.support.consumer import assert_refused_without_effects

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")


def task(action: str, order_id: str = "o-1", **fields):
    return {"action": action, "order_id": order_id, "correlation_id": "corr-1", "flow": "orchestrated", **fields}


@contextlib.contextmanager
def faults_document(document: dict[str, Any]) -> Iterator[None]:
    """The fault document in SSM (moto) for the duration of the block."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ORDERFLOW_FAULTS_PARAMETER", "/orderflow/faults")
        boto3.client("ssm").put_parameter(
            Name="/orderflow/faults", Value=json.dumps(document), Type="String", Overwrite=True
        )
        faults.reset_cache()
        try:
            yield
        finally:
            faults.reset_cache()


def metric_names(capsys) -> set[str]:
    names: set[str] = set()
    for line in capsys.readouterr().out.splitlines():
        if '"_aws"' in line:
            document = json.loads(line)
            for directive in document["_aws"]["CloudWatchMetrics"]:
                names.update(metric["Name"] for metric in directive["Metrics"])
    return names


def test_tax_authorize_capture_through_the_handler(table, bus, context, capsys, items, seal):
    assert tasks.lambda_handler(task("calculate_tax", amount_cents=2000), context) == {"tax_cents": 165}
    assert items() == [], "tax needs no payment record"
    authorized = tasks.lambda_handler(
        task("authorize", amount_cents=2000, tax_cents=165, payment_ref=seal("tok_visa")), context
    )
    assert authorized == {"status": "AUTHORIZED", "authorization_id": authorized["authorization_id"]}
    [hold] = items("SIM#AUTH#")
    assert hold["amount_cents"]["N"] == "2165"

    captured = tasks.lambda_handler(task("capture"), context)

    assert captured == {
        "status": "CAPTURED",
        "capture_id": captured["capture_id"],
        "amount_cents": 2000,
        "tax_cents": 165,
        "captured_cents": 2165,
    }
    [event] = bus.drain()
    assert (event["source"], event["detail-type"]) == ("orderflow.payments", "PaymentCompleted")
    assert event["detail"]["data"]["capture_id"] == captured["capture_id"]
    assert {"PaymentAuthorized", "PaymentCaptured"} <= metric_names(capsys)


def test_charge_runs_tax_authorize_and_capture_in_one_invocation(table, bus, context, capsys, items, seal):
    charged = tasks.lambda_handler(
        task("charge", total_cents=2000, payment_ref=seal("tok_visa"), budget_ms=7000), context
    )

    assert charged == {
        "status": "CAPTURED",
        "capture_id": charged["capture_id"],
        "amount_cents": 2000,
        "tax_cents": 165,
        "captured_cents": 2165,
    }
    [hold] = items("SIM#AUTH#")
    assert hold["amount_cents"]["N"] == "2165", "the hold is the full amount, tax included"
    assert [e["detail-type"] for e in bus.drain()] == ["PaymentCompleted"]
    assert {"PaymentAuthorized", "PaymentCaptured"} <= metric_names(capsys)
    # a retried charge (its answer was lost) replays what landed: no second hold, no second capture
    again = tasks.lambda_handler(task("charge", total_cents=2000, payment_ref=seal("tok_visa")), context)
    assert again == charged
    assert len(items("SIM#AUTH#")) == 1 and len(items("SIM#CAP#")) == 1


def test_charge_stops_at_a_decline(table, bus, context, items, seal):
    declined = tasks.lambda_handler(task("charge", amount_cents=2000, payment_ref=seal("tok_chargeDeclined")), context)

    assert declined == {"status": "DECLINED", "reason": "PAYMENT_DECLINED"}
    assert items("SIM#CAP#") == []
    assert [e["detail-type"] for e in bus.drain()] == ["PaymentFailed"]


def test_a_charge_whose_authorize_answered_past_its_budget_captures_nothing(table, bus, context, items, seal):
    slow = {"payments.authorize": {"latency_ms": 60}}
    with faults_document(slow), pytest.raises(ChargeDeadlineExceeded):
        tasks.lambda_handler(task("charge", amount_cents=2000, payment_ref=seal("tok_visa"), budget_ms=50), context)
    assert items("SIM#CAP#") == [], "nobody awaits this answer any more: no charge"
    # the retry (in time) replays the hold and captures once
    retried = tasks.lambda_handler(task("charge", amount_cents=2000, payment_ref=seal("tok_visa")), context)
    assert retried["status"] == "CAPTURED" and len(items("SIM#AUTH#")) == 1


def test_each_part_of_a_charge_is_injectable_on_its_own(table, bus, context, items, seal):
    with faults_document({"payments.capture": {"phase": "lost_response"}}), pytest.raises(LostResponse):
        tasks.lambda_handler(task("charge", amount_cents=2000, payment_ref=seal("tok_visa")), context)
    assert len(items("SIM#CAP#")) == 1, "the capture landed; its answer was lost"
    replay = tasks.lambda_handler(task("charge", amount_cents=2000, payment_ref=seal("tok_visa")), context)
    assert replay["status"] == "CAPTURED" and len(items("SIM#CAP#")) == 1


def test_saga_shaped_input_is_accepted(table, context, seal):
    """The saga sends total_cents and carries earlier results along."""
    event = task(
        "authorize",
        total_cents=1500,
        tax_cents=124,
        payment_ref=seal("tok_visa"),
        reservation={"result": {"status": "RESERVED"}},
        tax={"result": {"tax_cents": 124}},
    )
    assert tasks.lambda_handler(event, context)["status"] == "AUTHORIZED"


def test_provider_unavailable_leaves_the_handler_under_its_own_class_name(table, bus, context, capsys, seal):
    event = task("authorize", amount_cents=1000, tax_cents=83, payment_ref=seal("tok_transient"))
    for _ in range(2):
        with pytest.raises(Exception) as raised:
            tasks.lambda_handler(event, context)
        # Lambda reports this as errorType, which the state machines' Retry matches
        assert type(raised.value).__name__ == "PaymentProviderUnavailable"
    assert "PaymentProviderUnavailable" in metric_names(capsys)

    assert tasks.lambda_handler(event, context)["status"] == "AUTHORIZED"
    assert bus.drain() == []


def test_decline_is_a_result_not_an_error(table, bus, context, capsys, seal):
    result = tasks.lambda_handler(
        task("authorize", amount_cents=1000, tax_cents=83, payment_ref=seal("tok_chargeDeclined")), context
    )

    assert result == {"status": "DECLINED", "reason": "PAYMENT_DECLINED"}
    [event] = bus.drain()
    assert event["detail-type"] == "PaymentFailed"
    assert "PaymentDeclined" in metric_names(capsys)


def test_compensation_steps_are_no_ops_without_a_payment(table, bus, context):
    assert tasks.lambda_handler(task("refund"), context) == {"status": "NOTHING_TO_DO"}
    assert tasks.lambda_handler(task("void"), context) == {"status": "NOTHING_TO_DO"}
    assert bus.drain() == []


def test_fail_announces_payment_failed(table, bus, context):
    assert tasks.lambda_handler(task("fail", reason="PAYMENT_UNAVAILABLE"), context) == {"status": "FAILED"}
    [event] = bus.drain()
    assert event["detail"]["data"] == {"order_id": "o-1", "reason": "PAYMENT_UNAVAILABLE"}


@pytest.mark.parametrize(
    "event",
    [
        task("charge_twice"),
        task("authorize", amount_cents=0, tax_cents=0, payment_ref="kms1:c2VhbGVk"),
        task("authorize", amount_cents="1000", tax_cents=83, payment_ref="kms1:c2VhbGVk"),
        task("authorize", amount_cents=1000, tax_cents=83),
        task("authorize", amount_cents=1000, payment_ref="kms1:c2VhbGVk"),  # the hold must include the tax
        task("authorize", amount_cents=1000, tax_cents=-1, payment_ref="kms1:c2VhbGVk"),
        task("authorize", amount_cents=1000, tax_cents="83", payment_ref="kms1:c2VhbGVk"),
        task("fail", reason="BORED"),
        {"action": "capture", "order_id": "o-1", "flow": "orchestrated"},
    ],
)
def test_malformed_tasks_raise_before_anything_happens(table, bus, items, event):
    assert_refused_without_effects(tasks, event, items, bus.drain)


def test_tax_rate_comes_from_the_environment(table, context, monkeypatch):
    monkeypatch.setenv("TAX_RATE_BPS", "1000")
    dependencies.reset()
    assert tasks.lambda_handler(task("calculate_tax", amount_cents=999), context) == {"tax_cents": 100}


@pytest.mark.parametrize(("name", "value"), [("TAX_RATE_BPS", "lots"), ("PAYMENT_PROVIDER", "stripe")])
def test_bad_configuration_fails_at_cold_start(table, context, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    dependencies.reset()
    with pytest.raises(ValidationError) as raised:
        tasks.lambda_handler(task("refund"), context)
    assert name in str(raised.value)


@pytest.fixture
def workflow(aws, monkeypatch) -> str:
    arn = boto3.client("stepfunctions").create_state_machine(
        name="payment-workflow",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/payment-workflow",
    )["stateMachineArn"]
    monkeypatch.setenv("PAYMENT_WORKFLOW_ARN", arn)
    dependencies.reset()
    return arn


def reserved(order_id: str = "o-7", flow: str = "choreographed"):
    return new_event(
        InventoryReserved(
            order_id=order_id,
            customer_id="cust-7",
            items=[{"sku": "apple", "quantity": 1, "unit_price_cents": 1200}],
            total_cents=1200,
            payment_ref="kms1:c2VhbGVk",
        ),
        correlation_id="corr-7",
        flow=flow,
    )


def test_inventory_reserved_starts_the_workflow_once_per_order(table, bus, workflow, context, sqs_batch, capsys):
    assert consumer.lambda_handler(sqs_batch(reserved()), context) == {"batchItemFailures": []}
    assert "PaymentWorkflowStarted" in metric_names(capsys)
    # a redelivery: the execution exists already, which counts as done
    assert consumer.lambda_handler(sqs_batch(reserved()), context) == {"batchItemFailures": []}

    sfn = boto3.client("stepfunctions")
    [execution] = sfn.list_executions(stateMachineArn=workflow)["executions"]
    assert execution["name"] == "o-7"
    started = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    assert started == {
        "order_id": "o-7",
        "customer_id": "cust-7",
        "amount_cents": 1200,
        "payment_ref": "kms1:c2VhbGVk",  # passed on as it came: payments-consumer never opens it
        "correlation_id": "corr-7",
        "flow": "choreographed",
    }


def test_orchestrated_inventory_reserved_is_left_to_the_saga(table, workflow, context, sqs_batch):
    assert consumer.lambda_handler(sqs_batch(reserved(flow="orchestrated")), context) == {"batchItemFailures": []}
    assert boto3.client("stepfunctions").list_executions(stateMachineArn=workflow)["executions"] == []


def test_order_rejected_refunds_a_capture_once(table, bus, workflow, context, sqs_batch, seal):
    ref = seal("tok_visa", "o-8")
    tasks.lambda_handler(task("authorize", "o-8", amount_cents=1000, tax_cents=83, payment_ref=ref), context)
    tasks.lambda_handler(task("capture", "o-8"), context)
    bus.drain()
    rejected = new_event(
        OrderRejected(order_id="o-8", customer_id="cust-8", reason="INTERNAL_ERROR"),
        correlation_id="corr-8",
        flow="choreographed",
    )

    assert consumer.lambda_handler(sqs_batch(rejected, rejected), context) == {"batchItemFailures": []}

    refunded = [e for e in bus.drain() if e["detail-type"] == "PaymentRefunded"]
    assert len(refunded) == 2 and len({e["detail"]["metadata"]["event_id"] for e in refunded}) == 1
    assert refunded[0]["detail"]["data"]["amount_cents"] == 1083
    assert tasks.lambda_handler(task("refund", "o-8"), context) == {"status": "REFUNDED"}
    # a payment workflow redriven after the refund: never captured or completed again
    assert tasks.lambda_handler(task("calculate_tax", "o-8", amount_cents=1000), context) == {"tax_cents": 83}
    authorize = task("authorize", "o-8", amount_cents=1000, tax_cents=83, payment_ref=ref)
    assert tasks.lambda_handler(authorize, context) == {"status": "REFUNDED"}
    assert tasks.lambda_handler(task("capture", "o-8"), context) == {"status": "REFUNDED"}
    assert "PaymentCompleted" not in [e["detail-type"] for e in bus.drain()]


def test_order_rejected_before_any_payment_leaves_a_marker_that_a_late_payment_honours(
    table, bus, workflow, context, sqs_batch, items, seal
):
    """The reconciler rejects an order whose InventoryReserved is stuck; the payment it starts later holds nothing."""
    rejected = new_event(
        OrderRejected(order_id="o-9", customer_id="cust-9", reason="DECISION_TIMEOUT"),
        correlation_id="corr-9",
        flow="choreographed",
    )
    assert consumer.lambda_handler(sqs_batch(rejected), context) == {"batchItemFailures": []}
    [marker] = items("PAY#")
    assert marker["state"]["S"] == "VOIDED"
    assert bus.drain() == []  # nothing happened to announce

    late = task("authorize", "o-9", amount_cents=1000, tax_cents=83, payment_ref=seal("tok_visa", "o-9"))
    assert tasks.lambda_handler(late, context) == {"status": "VOIDED"}
    assert items("SIM#AUTH#") == []  # the processor was never asked to hold anything
    assert tasks.lambda_handler(task("capture", "o-9"), context) == {"status": "VOIDED"}


# --- payment references: only authorize opens them, for their own order only ---


def test_authorize_opens_the_reference_for_its_order(table, bus, context, items, seal):
    ref = seal("tok_visa", "o-1")
    assert "tok_visa" not in ref

    assert (
        tasks.lambda_handler(task("authorize", amount_cents=1000, tax_cents=83, payment_ref=ref), context)["status"]
        == "AUTHORIZED"
    )
    [hold] = items("SIM#AUTH#")
    assert hold["amount_cents"]["N"] == "1083"
    assert "tok_visa" not in json.dumps(items())  # the token is used, never stored


@pytest.mark.parametrize("copied", ["from another order", "not a reference"])
def test_a_reference_that_does_not_open_for_the_order_is_declined_not_retried(
    table, bus, context, items, capsys, seal, copied
):
    ref = seal("tok_visa", "o-other") if copied == "from another order" else "kms1:bm90IGEgcmVm"

    result = tasks.lambda_handler(task("authorize", "o-1", amount_cents=1000, tax_cents=83, payment_ref=ref), context)

    assert result == {"status": "DECLINED", "reason": "PAYMENT_DECLINED"}
    [payment] = items("PAY#")
    assert payment["state"]["S"] == "DECLINED" and payment["decline_code"]["S"] == "invalid_payment_ref"
    assert items("SIM#AUTH#") == []  # the processor was never asked
    [event] = bus.drain()
    assert event["detail-type"] == "PaymentFailed" and event["detail"]["data"]["reason"] == "PAYMENT_DECLINED"
    # a replay answers the decision, without opening anything again
    assert (
        tasks.lambda_handler(task("authorize", "o-1", amount_cents=1000, tax_cents=83, payment_ref=ref), context)
        == result
    )
    assert "tok_visa" not in capsys.readouterr().out


def test_a_function_without_the_key_cannot_authorize(table, context, monkeypatch):
    monkeypatch.delenv("PAYMENT_REF_KEY_ID", raising=False)
    dependencies.reset()

    with pytest.raises(RuntimeError, match="cannot open payment references"):
        tasks.lambda_handler(task("authorize", amount_cents=1000, tax_cents=83, payment_ref="kms1:c2VhbGVk"), context)


def test_settle_after_a_failed_capture_step_goes_forward_when_the_capture_landed(table, bus, context, seal):
    """The workflow's pivot: a capture that landed is announced again, never refunded by the workflow."""
    ref = seal("tok_visa", "o-s")
    tasks.lambda_handler(task("authorize", "o-s", amount_cents=1000, tax_cents=83, payment_ref=ref), context)
    assert tasks.lambda_handler(task("settle", "o-s"), context) == {"status": "AUTHORIZED", "authorization_id": ANY}
    tasks.lambda_handler(task("capture", "o-s"), context)
    first = [e for e in bus.drain() if e["detail-type"] == "PaymentCompleted"]

    settled = tasks.lambda_handler(task("settle", "o-s"), context)

    assert settled["status"] == "CAPTURED" and settled["captured_cents"] == 1083
    again = [e for e in bus.drain() if e["detail-type"] == "PaymentCompleted"]
    assert again[0]["detail"] == first[0]["detail"]  # the same event, re-announced
    assert tasks.lambda_handler(task("settle", "o-none"), context) == {"status": "NOTHING_TO_DO"}


def test_order_rejected_out_of_stock_writes_nothing(table, bus, workflow, context, sqs_batch, items):
    """No payment ever starts for an order inventory refused: no marker either."""
    rejected = new_event(
        OrderRejected(order_id="o-10", customer_id="cust-10", reason="OUT_OF_STOCK"),
        correlation_id="corr-10",
        flow="choreographed",
    )
    assert consumer.lambda_handler(sqs_batch(rejected), context) == {"batchItemFailures": []}
    assert items() == []
    assert bus.drain() == []
