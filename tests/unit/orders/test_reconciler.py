"""orders-reconciler: no order stays undecided past its deadline, and compensation follows the flow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from orders import dependencies as orders_dependencies
from orders.data.orders_repository import DynamoDBOrdersRepository
from orders.domain.errors import SagaTimedOutError, SagaUnavailableError
from orders.handlers import reconciler as reconciler_handler
from orders.logic.reconcile import REASON, Reconciler
from tests.unit.orders.builders import order_body
from tests.unit.orders.conftest import ORDERS_TABLE


@pytest.fixture
def reconcile(aws, saga, context, monkeypatch):
    monkeypatch.setattr(
        orders_dependencies, "reconciler", lambda: Reconciler(orders=DynamoDBOrdersRepository(ORDERS_TABLE), saga=saga)
    )

    def fire(at: datetime) -> dict:
        event = {"detail-type": "Scheduled Event", "source": "aws.events", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        return reconciler_handler.lambda_handler(event, context)

    return fire


def _stored(order_id: str) -> dict:
    return boto3.resource("dynamodb").Table(ORDERS_TABLE).get_item(Key={"order_id": order_id})["Item"]


def _deadline(order_id: str) -> datetime:
    return datetime.fromisoformat(_stored(order_id)["deadline"].replace("Z", "+00:00"))


def _pending_orchestrated(client, saga, key: str) -> str:
    saga.raise_error = SagaTimedOutError("still running", execution=key, status="TIMED_OUT")
    response = client.post_order(order_body(flow="orchestrated"), headers={"Idempotency-Key": key})
    saga.raise_error = None
    assert response.status == 202
    return str(response.body["order_id"])


def test_an_orchestrated_order_past_its_lease_is_rejected_and_compensated_by_the_saga(client, saga, reconcile):
    order_id = _pending_orchestrated(client, saga, "r-1")
    deadline = _deadline(order_id)

    assert reconcile(deadline - timedelta(seconds=5))["rejected"] == []  # its execution may still run
    answer = reconcile(deadline + timedelta(seconds=1))

    assert answer["rejected"] == [order_id] and answer["compensating"] == [order_id]
    stored = _stored(order_id)
    assert (stored["status"], stored["reason"]) == ("REJECTED", REASON)
    assert "undecided" not in stored
    # the compensation run gets the saga's own input: it finds the order REJECTED and only undoes
    [(name, payload)] = saga.started
    assert name.startswith(f"{order_id}-reconcile-")
    assert payload["order_id"] == order_id and payload["flow"] == "orchestrated"
    # a later run finds nothing left
    assert reconcile(deadline + timedelta(minutes=5))["rejected"] == []
    assert len(saga.started) == 1


def test_a_choreographed_order_past_its_deadline_is_rejected_without_a_saga_run(client, saga, reconcile):
    response = client.post_order(order_body(flow="choreographed"), headers={"Idempotency-Key": "r-2"})
    order_id = response.body["order_id"]
    deadline = _deadline(order_id)
    assert deadline - datetime.now(UTC) > timedelta(minutes=20)  # choreography gets its own, longer window

    answer = reconcile(deadline + timedelta(seconds=1))

    assert answer["rejected"] == [order_id] and answer["compensating"] == []
    assert _stored(order_id)["status"] == "REJECTED"  # the relay's OrderRejected drives the consumers
    assert saga.started == []


def test_a_decided_order_is_never_touched(client, saga, reconcile):
    response = client.post_order(order_body(flow="orchestrated"), headers={"Idempotency-Key": "r-3"})
    assert response.status == 201  # the fake saga answered CONFIRMED; store it as the saga would
    order_id = response.body["order_id"]
    repository = DynamoDBOrdersRepository(ORDERS_TABLE)
    from orders.domain.models import StatusChange

    repository.advance(order_id, StatusChange(status="CONFIRMED"), "2026-01-01T00:00:00.000000Z")

    answer = reconcile(datetime.now(UTC) + timedelta(days=1))

    assert answer["rejected"] == [] and _stored(order_id)["status"] == "CONFIRMED"


def test_a_compensation_that_could_not_start_is_started_by_the_next_run(client, saga, reconcile, monkeypatch):
    order_id = _pending_orchestrated(client, saga, "r-4")
    late = _deadline(order_id) + timedelta(seconds=1)

    def refuse(name, payload):
        raise SagaUnavailableError("throttled")

    original = saga.start
    monkeypatch.setattr(saga, "start", refuse)
    with pytest.raises(SagaUnavailableError):
        reconcile(late)
    assert _stored(order_id)["status"] == "REJECTED"
    assert "undecided" in _stored(order_id)  # the compensation is still owed
    monkeypatch.setattr(saga, "start", original)

    answer = reconcile(late + timedelta(minutes=1))

    assert answer["rejected"] == [] and answer["compensating"] == [order_id]
    assert "undecided" not in _stored(order_id)


def test_an_order_whose_lease_was_renewed_meanwhile_is_left_alone(client, saga, reconcile, monkeypatch):
    """The reject is conditional on the deadline having passed, not only on the index read."""
    order_id = _pending_orchestrated(client, saga, "r-5")
    late = _deadline(order_id) + timedelta(seconds=1)
    repository = DynamoDBOrdersRepository(ORDERS_TABLE)
    stale = repository.get(order_id)
    renewed = (late + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert repository.claim(order_id, late.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), renewed)
    monkeypatch.setattr(DynamoDBOrdersRepository, "overdue", lambda self, shard, now, limit: [stale])

    answer = reconcile(late)

    assert answer["rejected"] == [] and _stored(order_id)["status"] == "PENDING"
    assert saga.started == []
