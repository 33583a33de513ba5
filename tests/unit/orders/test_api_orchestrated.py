"""POST /orders with flow=orchestrated: the saga's answer mapped to HTTP, and the saga client itself."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from orders.data.saga import SagaExecution, StepFunctionsSaga
from orders.domain.errors import SagaFailedError, SagaTimedOutError, SagaUnavailableError
from orders.domain.models import Order, iso, utc_now
from orders.handlers.api import placement_response
from orders.logic.placed import PlacedOrder
from orders.logic.saga_outcome import interpret_execution
from shared.events import OrderLine
from shared.payment_ref import fingerprint
from tests.unit.orders.builders import PRICED_LINES, PRICED_TOTAL, order_body
from tests.unit.orders.conftest import open_ref

SAGA_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:order-saga"


def orchestrated(**overrides):
    return order_body(flow="orchestrated", **overrides)


def test_the_saga_gets_the_documented_input_named_after_the_order(client, saga, tables) -> None:
    response = client.post_order(orchestrated(), headers={"X-Correlation-Id": "corr-o"})

    [(name, payload)] = saga.calls
    assert name == payload["order_id"] == response.body["order_id"]
    assert payload == {
        "order_id": name,
        "customer_id": "cust-42",
        "items": PRICED_LINES,
        "total_cents": PRICED_TOTAL,
        "payment_ref": payload["payment_ref"],
        "correlation_id": "corr-o",
        "flow": "orchestrated",
    }
    # The saga gets a reference that only payments can open, for this order; never the token.
    assert payload["payment_ref"].startswith("kms2:") and "tok_visa" not in json.dumps(payload)
    assert open_ref(name, payload["payment_ref"]) == "tok_visa"
    # The API records the order before it starts the saga: it holds the saga's lease (no second
    # execution before it runs out) and sits in the reconciler's index until decided.
    [stored] = tables.orders()
    assert stored["order_id"] == name and stored["status"] == "PENDING"
    assert stored["undecided"].startswith("PENDING#") and stored["deadline"] > stored["created_at"]


def test_confirmed_is_201_with_the_order(client, saga) -> None:
    saga.answer = {"status": "CONFIRMED", "tax_cents": 240, "payment_ref": "kms1:c2VhbGVk", "extra": {"x": 1}}

    response = client.post_order(orchestrated(), headers={"X-Correlation-Id": "corr-c"})

    assert response.status == 201
    assert response.body == {
        "order_id": saga.calls[0][0],
        "status": "CONFIRMED",
        "flow": "orchestrated",
        "items": PRICED_LINES,
        "total_cents": PRICED_TOTAL,
        "tax_cents": 240,
        "correlation_id": "corr-c",
    }
    assert (
        "tok_visa" not in json.dumps(response.body)
        and "kms1:" not in json.dumps(response.body)
        and "kms2:" not in json.dumps(response.body)
    )


@pytest.mark.parametrize(
    ("reason", "status"),
    [("OUT_OF_STOCK", 409), ("PAYMENT_DECLINED", 402), ("PAYMENT_UNAVAILABLE", 503), ("INTERNAL_ERROR", 503)],
)
def test_rejections_map_to_their_status(client, saga, reason, status) -> None:
    saga.answer = {"status": "REJECTED", "reason": reason}

    response = client.post_order(orchestrated())

    assert response.status == status
    assert response.body == {"order_id": saga.calls[0][0], "status": "REJECTED", "reason": reason}


@pytest.mark.parametrize("execution_status", ["FAILED", "TIMED_OUT", "ABORTED"])
def test_execution_without_a_decision_is_202_pending_with_location(client, saga, tables, execution_status) -> None:
    saga.execution_status = execution_status

    response = client.post_order(orchestrated())

    order_id = saga.calls[0][0]
    assert response.status == 202
    assert response.body == {"order_id": order_id, "status": "PENDING", "flow": "orchestrated"}
    assert response.headers["Location"] == f"/orders/{order_id}"
    assert tables.orders()[0]["status"] == "PENDING"  # the reconciler decides it if nothing else does


def test_a_saga_that_outlives_the_api_budget_is_202_pending(client, saga) -> None:
    saga.raise_error = SagaTimedOutError("no answer in time", execution="o", status="TIMED_OUT")

    response = client.post_order(orchestrated())

    assert response.status == 202 and response.body["status"] == "PENDING"
    assert response.headers["Location"] == f"/orders/{response.body['order_id']}"


@pytest.mark.parametrize("output", ["not json", "[1, 2]", "null", json.dumps({"status": "MAYBE"}), ""])
def test_unreadable_saga_output_is_202_with_the_stored_status(client, saga, output) -> None:
    saga.answer = output

    response = client.post_order(orchestrated())

    assert response.status == 202 and response.body["status"] == "PENDING"


def test_saga_that_cannot_be_started_is_503_and_a_retry_starts_it(client, saga, tables) -> None:
    headers = {"Idempotency-Key": "o-unstarted"}
    saga.raise_error = SagaUnavailableError("throttled")

    response = client.post_order(orchestrated(), headers=headers)

    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    # Nothing runs the order: the lease is given back, so the retry may start the saga.
    [stored] = tables.orders()
    assert stored["deadline"] <= iso(utc_now())
    saga.raise_error = None
    retried = client.post_order(orchestrated(), headers=headers)
    assert retried.status == 201
    assert len(saga.calls) == 2 and saga.calls[1][0].startswith(saga.calls[0][0])
    assert saga.calls[0][1] == saga.calls[1][1]


def test_same_key_runs_the_saga_once_and_replays_the_answer(client, saga) -> None:
    saga.answer = {"status": "REJECTED", "reason": "OUT_OF_STOCK"}
    headers = {"Idempotency-Key": "o-1"}

    first = client.post_order(orchestrated(), headers=headers)
    second = client.post_order(orchestrated(), headers=headers)

    assert first.status == second.status == 409
    assert first.body == second.body
    assert len(saga.calls) == 1


def test_a_retry_while_the_saga_holds_the_order_never_starts_a_second_execution(client, saga, tables) -> None:
    headers = {"Idempotency-Key": "o-2"}
    saga.raise_error = SagaTimedOutError("no answer in time", execution="o", status="TIMED_OUT")
    first = client.post_order(orchestrated(), headers=headers)
    saga.raise_error = None

    retried = client.post_order(orchestrated(), headers=headers)

    assert first.status == retried.status == 202
    assert len(saga.calls) == 1


def test_a_retry_answers_the_decision_made_since_the_202(client, saga, tables) -> None:
    import boto3

    headers = {"Idempotency-Key": "o-2b"}
    saga.raise_error = SagaTimedOutError("no answer in time", execution="o", status="TIMED_OUT")
    first = client.post_order(orchestrated(), headers=headers)
    # the saga decides after the API answered
    boto3.resource("dynamodb").Table("orders-test").update_item(
        Key={"order_id": first.body["order_id"]},
        UpdateExpression="SET #s = :s, status_rank = :r, tax_cents = :t REMOVE undecided",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "CONFIRMED", ":r": 9, ":t": 7},
    )

    retried = client.post_order(orchestrated(), headers=headers)

    assert first.status == 202 and retried.status == 201 and retried.body["tax_cents"] == 7
    assert len(saga.calls) == 1


def test_a_retry_after_the_lease_ran_out_runs_the_saga_again_on_the_same_order(client, saga, tables) -> None:
    import boto3

    from orders.domain.models import new_order_id

    order_id = new_order_id("cust-42", "o-2c")
    saga.execution_status = "FAILED"  # parked: the execution ended without a decision
    first = client.post_order(orchestrated(), headers={"Idempotency-Key": "o-2c"})
    boto3.resource("dynamodb").Table("orders-test").update_item(
        Key={"order_id": order_id},
        UpdateExpression="SET deadline = :past",
        ExpressionAttributeValues={":past": "2000-01-01T00:00:00.000000Z"},
    )
    saga.execution_status = "SUCCEEDED"

    # past the idempotency record (another key for the same order is not possible: a new client
    # request without the record reaches the stored order through its deterministic id)
    boto3.resource("dynamodb").Table("idempotency-test").delete_item(Key={"id": tables.idempotency()[0]["id"]})
    retried = client.post_order(orchestrated(), headers={"Idempotency-Key": "o-2c"})

    assert first.status == 202 and retried.status == 201
    first_name, second_name = (name for name, _ in saga.calls)
    assert first_name == order_id and second_name.startswith(f"{order_id}-")  # a new execution, same order
    assert saga.calls[0][1] == saga.calls[1][1]
    assert tables.orders()[0]["deadline"] > "2000"


def test_keyed_retry_of_a_decided_order_answers_from_the_stored_order(client, saga, tables) -> None:
    import boto3

    from orders.domain.models import new_order_id

    headers = {"Idempotency-Key": "o-3"}
    order_id = new_order_id("cust-42", "o-3")
    boto3.resource("dynamodb").Table("orders-test").put_item(
        Item={
            "order_id": order_id,
            "customer_id": "cust-42",
            "flow": "orchestrated",
            "status": "CONFIRMED",
            "status_rank": 9,
            "items": PRICED_LINES,
            "total_cents": PRICED_TOTAL,
            "tax_cents": 10,
            "payment_ref": "kms1:c2VhbGVk",
            "payment_fingerprint": fingerprint(order_id, "tok_visa"),
            "correlation_id": "c",
            "created_at": "2026-01-01T00:00:00.000000Z",
            "updated_at": "2026-01-01T00:00:01.000000Z",
        }
    )

    response = client.post_order(orchestrated(), headers=headers)

    assert response.status == 201 and response.body["order_id"] == order_id and response.body["tax_cents"] == 10
    assert saga.calls == []


# --- the mapping, unit by unit ---


def _order() -> Order:
    return Order(
        order_id="o-1",
        customer_id="c",
        flow="orchestrated",
        status="PENDING",
        status_rank=0,
        items=[OrderLine(sku="A", quantity=1, unit_price_cents=100)],
        total_cents=100,
        payment_ref="kms1:c2VhbGVk",
        correlation_id="corr",
        created_at="2026-01-01T00:00:00.000000Z",
        updated_at="2026-01-01T00:00:00.000000Z",
    )


def _succeeded(output: object) -> SagaExecution:
    text = output if isinstance(output, str) else json.dumps(output)
    return SagaExecution(execution="arn:x", status="SUCCEEDED", output=text)


@pytest.mark.parametrize(
    ("output", "status", "reason", "tax"),
    [
        ({"order_id": "o-1", "status": "CONFIRMED", "tax_cents": 8}, "CONFIRMED", None, 8),
        ({"status": "CONFIRMED"}, "CONFIRMED", None, None),
        ({"status": "CONFIRMED", "tax_cents": True}, "CONFIRMED", None, None),
        ({"status": "CONFIRMED", "tax_cents": -1}, "CONFIRMED", None, None),
        ({"status": "CONFIRMED", "tax_cents": "8"}, "CONFIRMED", None, None),
        ({"status": "REJECTED", "reason": "OUT_OF_STOCK"}, "REJECTED", "OUT_OF_STOCK", None),
        ({"status": "REJECTED"}, "REJECTED", "INTERNAL_ERROR", None),
        ({"status": "REJECTED", "reason": "drop table"}, "REJECTED", "INTERNAL_ERROR", None),
        ({"status": "REJECTED", "reason": {"nested": 1}}, "REJECTED", "INTERNAL_ERROR", None),
    ],
)
def test_interpret_execution_reads_output_defensively(output, status, reason, tax) -> None:
    placed = interpret_execution(_succeeded(output), _order())

    assert (placed.status, placed.reason, placed.tax_cents) == (status, reason, tax)
    assert placed.order_id == "o-1" and placed.total_cents == 100


@pytest.mark.parametrize(
    ("execution", "error"),
    [
        (SagaExecution(execution="arn:x", status="FAILED", error="States.TaskFailed"), SagaFailedError),
        (SagaExecution(execution="arn:x", status="TIMED_OUT"), SagaTimedOutError),
        (SagaExecution(execution="arn:x", status="SUCCEEDED", output=None), SagaFailedError),
        (_succeeded({"order_id": "another", "status": "CONFIRMED"}), SagaFailedError),
        (_succeeded({"status": "PENDING"}), SagaFailedError),
        (_succeeded("[]"), SagaFailedError),
    ],
)
def test_interpret_execution_raises_without_a_decision(execution, error) -> None:
    with pytest.raises(error) as raised:
        interpret_execution(execution, _order())

    assert raised.value.execution == "arn:x"


@pytest.mark.parametrize(
    ("placed", "status"),
    [
        ({"flow": "choreographed", "status": "PENDING"}, 202),
        ({"status": "CONFIRMED"}, 201),
        ({"status": "REJECTED", "reason": "OUT_OF_STOCK"}, 409),
        ({"status": "REJECTED", "reason": "PAYMENT_DECLINED"}, 402),
        ({"status": "REJECTED", "reason": "PAYMENT_UNAVAILABLE"}, 503),
        ({"status": "REJECTED", "reason": "INTERNAL_ERROR"}, 503),
        ({"status": "REJECTED", "reason": "SOMETHING_NEW"}, 503),
    ],
)
def test_placement_response_status_codes(placed, status) -> None:
    base = {"order_id": "o", "flow": "orchestrated", "items": [], "total_cents": 1, "correlation_id": "c"}

    response = placement_response(PlacedOrder.model_validate({**base, **placed}))

    assert response.status_code == status


# --- the Step Functions client, against botocore's stubber (moto does not route StartSyncExecution) ---


def _client():
    import boto3

    return boto3.client("stepfunctions", region_name="us-east-1")


def test_step_functions_saga_calls_start_sync_execution() -> None:
    client = _client()
    saga = StepFunctionsSaga(SAGA_ARN, 25, client=client)
    with Stubber(client) as stub:
        stub.add_response(
            "start_sync_execution",
            {
                "executionArn": "arn:aws:states:us-east-1:123456789012:express:order-saga:o-1:x",
                "startDate": "2026-01-01T00:00:00Z",
                "stopDate": "2026-01-01T00:00:01Z",
                "status": "SUCCEEDED",
                "output": '{"status": "CONFIRMED"}',
            },
            {"stateMachineArn": SAGA_ARN, "name": "o-1", "input": json.dumps({"order_id": "o-1"})},
        )

        execution = saga.run("o-1", {"order_id": "o-1"})

    assert execution.status == "SUCCEEDED"
    assert execution.output == '{"status": "CONFIRMED"}'
    assert execution.execution.endswith(":o-1:x")


def test_step_functions_saga_maps_transport_failures() -> None:
    client = _client()
    saga = StepFunctionsSaga(SAGA_ARN, 25, client=client)
    with Stubber(client) as stub:
        stub.add_client_error("start_sync_execution", service_error_code="ThrottlingException", http_status_code=400)
        with pytest.raises(SagaUnavailableError):
            saga.run("o-1", {})

    class TimingOut:
        def start_sync_execution(self, **_: object) -> None:
            raise ReadTimeoutError(endpoint_url="https://sync-states.us-east-1.amazonaws.com")

    with pytest.raises(SagaTimedOutError):
        StepFunctionsSaga(SAGA_ARN, 25, client=TimingOut()).run("o-1", {})


def test_a_concurrent_retry_with_the_same_key_is_409_while_the_first_is_in_flight(client, saga) -> None:
    headers = {"Idempotency-Key": "o-4"}
    inner: list = []
    real_run = saga.run

    def run_and_retry(name, payload):
        # While the saga runs, the client retries: the first request still holds the key.
        inner.append(client.post_order(orchestrated(), headers=headers))
        return real_run(name, payload)

    saga.run = run_and_retry

    outer = client.post_order(orchestrated(), headers=headers)

    assert outer.status == 201
    assert inner[0].status == 409 and inner[0].headers["Retry-After"] == "1"


def test_injected_fault_is_a_503_and_writes_nothing(client, saga, tables, monkeypatch) -> None:
    import shared.faults

    monkeypatch.setattr(shared.faults, "_load", lambda: {"orders.place_order": {"outage": True}})

    response = client.post_order(order_body())

    assert response.status == 503
    assert tables.orders() == [] and saga.calls == []


def test_keyed_retry_of_an_undecided_order_runs_the_saga_again(client, saga, tables) -> None:
    import boto3

    from orders.domain.models import new_order_id

    order_id = new_order_id("cust-42", "o-5")
    lines = PRICED_LINES
    boto3.resource("dynamodb").Table("orders-test").put_item(
        Item={
            "order_id": order_id,
            "customer_id": "cust-42",
            "flow": "orchestrated",
            "status": "RESERVED",  # a saga that died mid-way, after the idempotency record expired
            "status_rank": 1,
            "items": lines,
            "total_cents": PRICED_TOTAL,
            "payment_ref": "kms1:c2VhbGVk",
            "payment_fingerprint": fingerprint(order_id, "tok_visa"),
            "correlation_id": "corr-first",
            "created_at": "2026-01-01T00:00:00.000000Z",
            "updated_at": "2026-01-01T00:00:01.000000Z",
        }
    )

    response = client.post_order(orchestrated(), headers={"Idempotency-Key": "o-5"})

    assert response.status == 201
    [(name, payload)] = saga.calls
    # a new execution (its own name) for the same order, with the stored order's input
    assert name.startswith(f"{order_id}-") and payload["order_id"] == order_id
    assert payload["correlation_id"] == "corr-first" and payload["items"] == lines
