"""Redrive on moto: every DLQ's messages find their way back, and a failure leaves them parked."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ops.redrive import redrive
from ops.redrive_paths import RecordsExpired, read_stream_batch
from ops.resources import ORDERS_TABLE
from ops.topology import DEAD_LETTER_QUEUES
from tests.ops.world import World

EVENT = {
    "version": "0",
    "id": "0d0c7f2e-6b1a-4a4e-9a57-000000000001",
    "detail-type": "OrderConfirmed",
    "source": "orderflow.orders",
    "account": "123456789012",
    "time": "2030-01-01T12:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {"metadata": {"order_id": "o-1", "event_id": "e-1"}, "data": {"order_id": "o-1"}},
}


def attr(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def run(world: World, *names: str, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("wait_seconds", 0)
    clients = kwargs.pop("clients", world.clients)
    return redrive(clients, world.resources, names, **kwargs)


class Wrapped:
    """A real client with some methods replaced."""

    def __init__(self, real: Any, **overrides: Any) -> None:
        self._real = real
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        return self._overrides.get(name) or getattr(self._real, name)


@pytest.fixture
def bus_capture(world: World) -> str:
    """A rule on the bus feeding a test queue: what PutEvents published lands there."""
    sqs, events = world.clients.sqs, world.clients.events
    url = sqs.create_queue(QueueName="bus-capture")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = world.resources.bus_name()
    events.put_rule(Name="capture", EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": "orderflow."}]}))
    events.put_targets(Rule="capture", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return str(url)


def captured(world: World, url: str) -> list[dict[str, Any]]:
    messages = world.clients.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


# --- consumer DLQs --------------------------------------------------------------------------


def test_consumer_messages_go_back_to_their_source_queue(world: World) -> None:
    for n in range(12):  # more than one receive batch
        world.send("InventoryEventsDeadLetterQueue", {**EVENT, "id": f"e-{n}"}, {"trace": attr(f"t-{n}")})

    results = run(world, "inventory")

    assert (results["inventory"].waiting, results["inventory"].moved, results["inventory"].failed) == (12, 12, 0)
    assert world.depth("InventoryEventsDeadLetterQueue") == 0
    back = world.messages("InventoryEventsQueue")
    assert sorted(json.loads(m["Body"])["id"] for m in back) == sorted(f"e-{n}" for n in range(12))
    assert {m["MessageAttributes"]["trace"]["StringValue"] for m in back} == {f"t-{n}" for n in range(12)}
    assert world.depth("PaymentsEventsQueue") == 0  # no other queue touched


def test_without_a_listed_source_the_cdk_sibling_queue_is_used(world: World) -> None:
    sqs = Wrapped(world.clients.sqs, list_dead_letter_source_queues=lambda **_: {"queueUrls": []})
    world.send("ShippingEventsDeadLetterQueue", EVENT)
    results = run(world, "shipping", clients=dataclasses.replace(world.clients, sqs=sqs))
    assert results["shipping"].moved == 1
    assert len(world.messages("ShippingEventsQueue")) == 1


def test_a_failed_send_leaves_the_message_in_its_dlq(world: World) -> None:
    real = world.clients.sqs

    def send_message(**kwargs: Any) -> Any:
        if "poison" in kwargs["MessageBody"]:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "SendMessage")
        return real.send_message(**kwargs)

    world.send("PaymentsEventsDeadLetterQueue", EVENT)
    world.send("PaymentsEventsDeadLetterQueue", {"poison": True})
    clients = dataclasses.replace(world.clients, sqs=Wrapped(real, send_message=send_message))

    result = run(world, "payments", clients=clients)["payments"]

    assert (result.moved, result.failed) == (1, 1)
    assert "AccessDenied" in result.errors[0]
    assert world.depth("PaymentsEventsDeadLetterQueue") == 1  # still there (in flight until the timeout)
    assert len(world.messages("PaymentsEventsQueue")) == 1


def test_dry_run_moves_nothing(world: World) -> None:
    world.send("NotificationsEventsDeadLetterQueue", EVENT)
    world.send("OrdersTimelineEventsDeadLetterQueue", EVENT)
    results = run(world, *DEAD_LETTER_QUEUES, dry_run=True)
    assert {name: r.waiting for name, r in results.items() if r.waiting} == {"notifications": 1, "orders-timeline": 1}
    assert all(r.moved == 0 for r in results.values())
    assert world.depth("NotificationsEventsDeadLetterQueue") == 1
    assert world.depth("NotificationsEventsQueue") == 0


def test_an_unknown_name_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="unknown DLQ nope"):
        run(world, "nope")


# --- EventBridge's delivery DLQ ---------------------------------------------------------------


def test_undelivered_events_go_to_the_target_queue_named_by_target_arn(world: World, bus_capture: str) -> None:
    target = world.clients.sqs.get_queue_attributes(
        QueueUrl=world.queue_url("ShippingEventsQueue"), AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    world.send(
        "EventBusDeliveryDeadLetterQueue",
        EVENT,
        {
            "RULE_ARN": attr("arn:aws:events:us-east-1:123456789012:rule/orderflow-bus/ShipOnOrderConfirmed"),
            "TARGET_ARN": attr(target),
            "ERROR_CODE": attr("SQS_PERMISSION_DENIED"),
        },
    )

    assert run(world, "event-delivery")["event-delivery"].moved == 1

    delivered = world.messages("ShippingEventsQueue")
    assert [json.loads(m["Body"]) for m in delivered] == [EVENT]
    assert "MessageAttributes" not in delivered[0]  # the failure's attributes stay behind
    assert captured(world, bus_capture) == []  # not fanned out to every rule
    assert world.depth("EventBusDeliveryDeadLetterQueue") == 0


def test_undelivered_events_without_a_queue_target_go_back_onto_the_bus(world: World, bus_capture: str) -> None:
    world.send("EventBusDeliveryDeadLetterQueue", EVENT, {"TARGET_ARN": attr("arn:aws:lambda:us-east-1:1:function:x")})
    assert run(world, "event-delivery")["event-delivery"].moved == 1
    [event] = captured(world, bus_capture)
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "orderflow.orders",
        "OrderConfirmed",
        EVENT["detail"],
    )


# --- the relay's stream batches --------------------------------------------------------------------


class FakeLambda:
    def __init__(self, answer: Any = None, function_error: str | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.answer = {"batchItemFailures": []} if answer is None else answer
        self.function_error = function_error

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append({**kwargs, "Payload": json.loads(kwargs["Payload"])})
        response: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(self.answer).encode())}
        if self.function_error:
            response["FunctionError"] = self.function_error
        return response


def stream_batch(world: World, *order_ids: str) -> dict[str, Any]:
    """Write orders, then describe their stream records the way Lambda's on-failure record does."""
    table = world.resources.table(ORDERS_TABLE)
    for order_id in order_ids:
        world.order(order_id, "PENDING", flow="choreographed")
    stream_arn = world.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = world.clients.dynamodbstreams
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    return {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11},
        "version": "1.0",
        "DDBStreamBatchInfo": {
            "shardId": shard["ShardId"],
            "startSequenceNumber": sequences[0],
            "endSequenceNumber": sequences[-1],
            "batchSize": len(sequences),
            "streamArn": stream_arn,
        },
    }


def test_relay_batches_are_read_back_from_the_stream_and_rerun(world: World) -> None:
    failure = stream_batch(world, "o-1", "o-2", "o-3")
    world.send("OrdersRelayDeadLetterQueue", failure)
    relay = FakeLambda()

    result = run(world, "orders-relay", clients=dataclasses.replace(world.clients, lambda_=relay))["orders-relay"]

    assert (result.moved, result.failed) == (1, 0), result.errors
    [call] = relay.calls
    assert call["FunctionName"] == "orderflow-relay"
    records = call["Payload"]["Records"]
    assert [r["dynamodb"]["NewImage"]["order_id"]["S"] for r in records] == ["o-1", "o-2", "o-3"]
    assert {r["eventName"] for r in records} == {"INSERT"}
    assert {r["eventSourceARN"] for r in records} == {failure["DDBStreamBatchInfo"]["streamArn"]}
    assert world.depth("OrdersRelayDeadLetterQueue") == 0


def test_only_the_records_of_the_failed_batch_are_rerun(world: World) -> None:
    failure = stream_batch(world, "o-1", "o-2", "o-3")
    info = failure["DDBStreamBatchInfo"]
    middle = str(int(info["startSequenceNumber"]) + 1)
    records = read_stream_batch(
        world.clients.dynamodbstreams, {**info, "startSequenceNumber": middle, "endSequenceNumber": middle}
    )
    assert [r["dynamodb"]["NewImage"]["order_id"]["S"] for r in records] == ["o-2"]


@pytest.mark.parametrize(
    ("relay", "message"),
    [
        (FakeLambda(answer={"batchItemFailures": [{"itemIdentifier": "1"}]}), "failed 1 of 1 record(s) again"),
        (FakeLambda(answer={"errorMessage": "bus down"}, function_error="Unhandled"), "Unhandled: bus down"),
    ],
)
def test_a_relay_that_fails_again_keeps_the_batch(world: World, relay: FakeLambda, message: str) -> None:
    world.send("OrdersRelayDeadLetterQueue", stream_batch(world, "o-1"))
    result = run(world, "orders-relay", clients=dataclasses.replace(world.clients, lambda_=relay))["orders-relay"]
    assert (result.moved, result.failed) == (0, 1)
    assert message in result.errors[0]
    assert world.depth("OrdersRelayDeadLetterQueue") == 1


def test_expired_stream_records_are_reported_and_kept(world: World) -> None:
    failure = stream_batch(world, "o-1")
    info = failure["DDBStreamBatchInfo"]
    gone = str(int(info["endSequenceNumber"]) + 100)
    failure["DDBStreamBatchInfo"] = {**info, "startSequenceNumber": gone, "endSequenceNumber": gone}
    world.send("OrdersRelayDeadLetterQueue", failure)
    relay = FakeLambda()

    result = run(world, "orders-relay", clients=dataclasses.replace(world.clients, lambda_=relay))["orders-relay"]

    assert (result.moved, result.failed) == (0, 1)
    assert "no longer in the stream" in result.errors[0]
    assert relay.calls == []
    with pytest.raises(RecordsExpired):
        read_stream_batch(world.clients.dynamodbstreams, failure["DDBStreamBatchInfo"])


def test_a_trimmed_shard_is_reported_as_expired() -> None:
    class Trimmed:
        def get_shard_iterator(self, **_: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "TrimmedDataAccessException", "Message": "trimmed"}}, "GetShardIterator"
            )

    info = {"shardId": "s", "startSequenceNumber": "1", "endSequenceNumber": "2", "streamArn": "arn"}
    with pytest.raises(RecordsExpired, match="expired"):
        read_stream_batch(Trimmed(), info)


def test_a_message_that_is_not_a_stream_record_is_kept(world: World) -> None:
    world.send("OrdersRelayDeadLetterQueue", {"something": "else"})
    result = run(world, "orders-relay", clients=dataclasses.replace(world.clients, lambda_=FakeLambda()))
    assert result["orders-relay"].failed == 1
    assert "DDBStreamBatchInfo" in result["orders-relay"].errors[0]


# --- parked saga and payment workflow inputs ------------------------------------------------------

SAGA_INPUT = {
    "order_id": "o-7",
    "customer_id": "c-1",
    "items": [{"sku": "sku-a", "quantity": 1, "unit_price_cents": 1000}],
    "total_cents": 1000,
    "payment_ref": "kms1:c2VhbGVk",
    "correlation_id": "corr-7",
    "flow": "orchestrated",
}


class FakeSyncSaga:
    """start_sync_execution as Step Functions answers it; a failed run may park the input again."""

    def __init__(self, world: World, answer: dict[str, Any], park_again: bool = False) -> None:
        self.world, self.answer, self.park_again = world, answer, park_again
        self.calls: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world.clients.stepfunctions, name)

    def start_sync_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append({**kwargs, "input": json.loads(kwargs["input"])})
        if self.park_again:
            self.world.send("OrderSagaSagaDeadLetterQueue", {**self.calls[-1]["input"], "failed_state": "X"})
        return self.answer


def test_a_parked_saga_runs_again_from_its_input(world: World) -> None:
    world.send("OrderSagaSagaDeadLetterQueue", {**SAGA_INPUT, "failed_state": "CompensationFailed"})
    saga = FakeSyncSaga(world, {"status": "SUCCEEDED", "output": "{}"})

    result = run(world, "saga", clients=dataclasses.replace(world.clients, saga_runner=saga))["saga"]

    assert (result.moved, result.failed) == (1, 0), result.errors
    [call] = saga.calls
    assert call["stateMachineArn"] == world.resources.state_machine_arn("OrderSagaStateMachine")
    assert call["input"] == SAGA_INPUT  # failed_state is not part of the saga's input
    assert call["name"].startswith("o-7-redrive-")
    assert world.depth("OrderSagaSagaDeadLetterQueue") == 0


def test_a_saga_that_parks_itself_again_replaces_its_message_without_looping(world: World) -> None:
    world.send("OrderSagaSagaDeadLetterQueue", {**SAGA_INPUT, "failed_state": "CompensationFailed"})
    saga = FakeSyncSaga(world, {"status": "FAILED", "error": "CompensationFailed", "cause": "x"}, park_again=True)

    result = run(world, "saga", clients=dataclasses.replace(world.clients, saga_runner=saga))["saga"]

    assert (result.moved, result.failed) == (0, 1)
    assert "parked its input anew" in result.errors[0]
    assert len(saga.calls) == 1  # the re-parked message waits for the next run
    assert world.depth("OrderSagaSagaDeadLetterQueue") == 1  # the new one; the old one is gone


def test_a_saga_that_fails_otherwise_keeps_its_message(world: World) -> None:
    world.send("OrderSagaSagaDeadLetterQueue", SAGA_INPUT)
    saga = FakeSyncSaga(world, {"status": "TIMED_OUT"})
    result = run(world, "saga", clients=dataclasses.replace(world.clients, saga_runner=saga))["saga"]
    assert (result.moved, result.failed) == (0, 1)
    assert "TIMED_OUT" in result.errors[0]
    assert world.depth("OrderSagaSagaDeadLetterQueue") == 1


def test_a_saga_is_not_run_again_while_an_execution_may_still_hold_its_order(world: World) -> None:
    """One execution per order: the redrive claims the order's lease first, as the orders API does."""
    world.order("o-7", "PENDING")
    world.orders_table().update_item(
        Key={"order_id": "o-7"},
        UpdateExpression="SET deadline = :later",
        ExpressionAttributeValues={":later": "2999-01-01T00:00:00.000000Z"},
    )
    world.send("OrderSagaSagaDeadLetterQueue", {**SAGA_INPUT, "failed_state": "CompensationFailed"})
    saga = FakeSyncSaga(world, {"status": "SUCCEEDED", "output": "{}"})

    result = run(world, "saga", clients=dataclasses.replace(world.clients, saga_runner=saga))["saga"]

    assert (result.moved, result.failed) == (0, 1)
    assert "may still be running" in result.errors[0]
    assert saga.calls == []
    assert world.depth("OrderSagaSagaDeadLetterQueue") == 1


def test_a_decided_or_expired_order_is_run_again_and_the_run_holds_the_lease(world: World) -> None:
    world.order("o-7", "PENDING")  # no deadline: an order recorded before leases existed, or expired
    world.send("OrderSagaSagaDeadLetterQueue", {**SAGA_INPUT, "failed_state": "CompensationFailed"})
    saga = FakeSyncSaga(world, {"status": "SUCCEEDED", "output": "{}"})

    result = run(world, "saga", clients=dataclasses.replace(world.clients, saga_runner=saga))["saga"]

    assert (result.moved, result.failed) == (1, 0), result.errors
    lease = world.orders_table().get_item(Key={"order_id": "o-7"})["Item"]["deadline"]
    assert lease > datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_the_saga_is_started_without_sdk_retries_and_waited_for_past_its_timeout() -> None:
    """A retried StartSyncExecution whose answer was slow would start the order's saga twice."""
    from ops.clients import Clients, local_session

    runner = Clients.from_session(local_session(), endpoint_url="http://127.0.0.1:9").saga_runner
    config = runner.meta.config
    assert config.retries["total_max_attempts"] == 1
    assert config.read_timeout > 240  # the saga's own timeout


def test_a_parked_payment_workflow_is_started_again(world: World) -> None:
    parked = {
        "order_id": "o-8",
        "customer_id": "c-1",
        "amount_cents": 2000,
        "payment_ref": "kms1:c2VhbGVk",
        "correlation_id": "corr-8",
        "flow": "choreographed",
    }
    world.send("PaymentsWorkflowDeadLetterQueue", {**parked, "failed_state": "AnnouncePaymentFailed"})

    result = run(world, "payment-workflow")["payment-workflow"]

    assert (result.moved, result.failed) == (1, 0), result.errors
    arn = world.resources.state_machine_arn("PaymentsWorkflow")
    [execution] = world.clients.stepfunctions.list_executions(stateMachineArn=arn)["executions"]
    assert execution["name"].startswith("o-8-redrive-")
    described = world.clients.stepfunctions.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == parked
    assert world.depth("PaymentsWorkflowDeadLetterQueue") == 0


def test_a_parked_input_without_an_order_is_kept(world: World) -> None:
    world.send("PaymentsWorkflowDeadLetterQueue", {"failed_state": "AnnouncePaymentFailed"})
    result = run(world, "payment-workflow")["payment-workflow"]
    assert result.failed == 1 and "no order_id" in result.errors[0]
    assert world.depth("PaymentsWorkflowDeadLetterQueue") == 1
