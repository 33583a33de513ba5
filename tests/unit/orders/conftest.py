"""Fixtures for the orders service's unit tests: moto tables, environment, API and SQS events."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

# Before any orders module builds its Tracer/Logger: no X-Ray daemon here, no real credentials.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "orderflow")

from orders import dependencies as orders_dependencies
from orders.config import ApiSettings
from orders.data.orders_repository import UNDECIDED_INDEX
from orders.data.saga import SagaExecution, SagaStarter
from orders.handlers import api
from orders.observability import logger as orders_logger
from shared import dependencies
from shared.config import load
from shared.payment_ref import KmsPaymentRefs
from tests.support.events import LambdaContext
from tests.unit.orders.builders import api_gateway_event, eventbridge_event, sqs_event

REGION = "us-east-1"
ACCOUNT = "123456789012"
ORDERS_TABLE = "orders-test"
ORDER_EVENTS_TABLE = "order-events-test"
IDEMPOTENCY_TABLE = "idempotency-test"
INVENTORY_TABLE = "inventory-test"
BUS = "orderflow-test"
SAGA_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:order-saga"
PRICES = {"SKU-1": 1250, "SKU-2": 499, "sku.3_x-y": 100}


ENVIRONMENT = {
    "ORDERS_TABLE": ORDERS_TABLE,
    "ORDER_EVENTS_TABLE": ORDER_EVENTS_TABLE,
    "IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE,
    "INVENTORY_TABLE": INVENTORY_TABLE,
    "SAGA_STATE_MACHINE_ARN": SAGA_ARN,
    "EVENT_BUS_NAME": BUS,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def _reset_wiring() -> None:
    dependencies.reset()


@pytest.fixture(scope="module")
def cloud() -> Iterator[Any]:
    """One moto per test module (boto3 clients cost ~50 ms each, so handlers keep theirs across tests)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in ENVIRONMENT.items():
            patch.setenv(name, value)
        for name in (
            "POWERTOOLS_IDEMPOTENCY_DISABLED",
            "ORDERFLOW_FAULTS_PARAMETER",
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
        ):
            patch.delenv(name, raising=False)
        _reset_wiring()
        # Keeping boto3's default session keeps its parsed service models (a fresh one parses them again).
        with mock_aws(config={"core": {"reset_boto3_session": False}}):
            key = boto3.client("kms", region_name=REGION).create_key(Description="payment refs")["KeyMetadata"]
            patch.setenv("PAYMENT_REF_KEY_ID", key["Arn"])
            yield boto3.client("dynamodb", region_name=REGION)
        _reset_wiring()


def open_ref(order_id: str, ref: str) -> str:
    """What payments does with a payment reference (the tests' moto key, this order's context)."""
    return KmsPaymentRefs(os.environ["PAYMENT_REF_KEY_ID"], boto3.client("kms", region_name=REGION)).open(order_id, ref)


def _table(
    ddb: Any, name: str, keys: list[tuple[str, str]], stream: bool = False, index: tuple[str, str, str] | None = None
) -> None:
    attributes = {n for n, _ in keys} | (set(index[1:]) if index else set())
    spec: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [{"AttributeName": n, "KeyType": t} for n, t in keys],
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in sorted(attributes)],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if index:
        spec["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index[0],
                "KeySchema": [
                    {"AttributeName": index[1], "KeyType": "HASH"},
                    {"AttributeName": index[2], "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    if stream:
        spec["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    ddb.create_table(**spec)


@pytest.fixture
def aws(cloud: Any) -> Iterator[Any]:
    """Fresh tables of docs/architecture.md (key schemas as documented) for each test, inventory priced."""
    ddb = cloud
    _table(ddb, ORDERS_TABLE, [("order_id", "HASH")], stream=True, index=(UNDECIDED_INDEX, "undecided", "deadline"))
    _table(ddb, ORDER_EVENTS_TABLE, [("order_id", "HASH"), ("event_key", "RANGE")])
    _table(ddb, IDEMPOTENCY_TABLE, [("id", "HASH")])
    ddb.update_time_to_live(
        TableName=IDEMPOTENCY_TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )
    _table(ddb, INVENTORY_TABLE, [("pk", "HASH")])
    inventory = boto3.resource("dynamodb", region_name=REGION).Table(INVENTORY_TABLE)
    for sku, price in PRICES.items():
        inventory.put_item(
            Item={"pk": f"SKU#{sku}", "sku": sku, "available": 10, "reserved": 0, "stocked": 10, "price_cents": price}
        )
    # A sku that exists but is not for sale (no price): must be refused like an unknown one.
    inventory.put_item(Item={"pk": "SKU#NOPRICE", "sku": "NOPRICE", "available": 1, "reserved": 0, "stocked": 1})
    yield ddb
    for name in (ORDERS_TABLE, ORDER_EVENTS_TABLE, IDEMPOTENCY_TABLE, INVENTORY_TABLE):
        ddb.delete_table(TableName=name)
    dependencies.reset()


def scan(table_name: str) -> list[dict[str, Any]]:
    return boto3.resource("dynamodb", region_name=REGION).Table(table_name).scan()["Items"]


@pytest.fixture
def tables() -> Any:
    class Tables:
        orders = staticmethod(lambda: scan(ORDERS_TABLE))
        events = staticmethod(lambda: scan(ORDER_EVENTS_TABLE))
        idempotency = staticmethod(lambda: scan(IDEMPOTENCY_TABLE))

    return Tables


# --- the saga, stubbed at the boundary of our client layer ---


class FakeSaga(SagaStarter):
    """Answers like StartSyncExecution would; records each call (`started`: StartExecution's)."""

    @staticmethod
    def arn(name: str) -> str:
        return f"arn:aws:states:{REGION}:{ACCOUNT}:express:order-saga:{name}:1"

    def start(self, name: str, payload: dict[str, Any]) -> str:
        self.started.append((name, payload))
        return self.arn(name)

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.started: list[tuple[str, dict[str, Any]]] = []
        self.answer: Any = {"status": "CONFIRMED", "tax_cents": 80}
        self.execution_status = "SUCCEEDED"
        self.raise_error: Exception | None = None

    def run(self, name: str, payload: dict[str, Any]) -> SagaExecution:
        self.calls.append((name, payload))
        if self.raise_error is not None:
            raise self.raise_error
        output = (
            self.answer
            if isinstance(self.answer, str) or self.answer is None
            else json.dumps({"order_id": payload["order_id"], **self.answer})
        )
        return SagaExecution(
            execution=self.arn(name),
            status=self.execution_status,
            output=output if self.execution_status == "SUCCEEDED" else None,
            error=None if self.execution_status == "SUCCEEDED" else "States.TaskFailed",
        )


@pytest.fixture(scope="module")
def _saga_wiring(cloud: Any) -> tuple[FakeSaga, Any]:
    fake = FakeSaga()
    return fake, cache(lambda: orders_dependencies.build_placement(load(ApiSettings), saga=fake))


@pytest.fixture
def saga(aws: Any, _saga_wiring: tuple[FakeSaga, Any], monkeypatch: pytest.MonkeyPatch) -> FakeSaga:
    """The saga stubbed at our client boundary (SagaStarter): the real one runs in other suites."""
    fake, placement = _saga_wiring
    vars(fake).clear()  # a test may have replaced a method on it
    fake.__init__()  # type: ignore[misc]
    monkeypatch.setattr(orders_dependencies, "placement", placement)
    return fake


# --- API Gateway (REST, Lambda proxy) events ---


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: Any


class ApiClient:
    def __init__(self, context: LambdaContext) -> None:
        self._context = context

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: str | None = None
    ) -> ApiResponse:
        event = api_gateway_event(method, path, body=body, headers=headers, raw=raw)
        result = api.lambda_handler(event, self._context)
        flat = {name: values[-1] for name, values in (result.get("multiValueHeaders") or {}).items()}
        flat.update(result.get("headers") or {})
        text = result.get("body") or ""
        return ApiResponse(result["statusCode"], flat, json.loads(text) if text else None)

    def post_order(self, body: Any, headers: dict[str, str] | None = None) -> ApiResponse:
        return self.call("POST", "/orders", body=body, headers=headers)


@pytest.fixture
def client(aws: Any, context: LambdaContext) -> ApiClient:
    return ApiClient(context)


# --- EventBridge -> SQS, to read what the service published ---


@pytest.fixture
def bus_queue(aws: Any) -> Iterator[Any]:
    """The orderflow bus with one rule delivering every orderflow.* event to a queue."""
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name=BUS)
    url = sqs.create_queue(QueueName="orders-test-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="tap", EventBusName=BUS, EventPattern=json.dumps({"source": [{"prefix": "orderflow."}]}))
    events.put_targets(Rule="tap", EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])

    class Tap:
        @staticmethod
        def drain() -> list[dict[str, Any]]:
            received: list[dict[str, Any]] = []
            while True:
                batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
                if not batch:
                    return received
                for message in batch:
                    received.append(json.loads(message["Body"]))
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    yield Tap
    events.remove_targets(Rule="tap", EventBusName=BUS, Ids=["q"])
    events.delete_rule(Name="tap", EventBusName=BUS)
    events.delete_event_bus(Name=BUS)
    sqs.delete_queue(QueueUrl=url)


# --- SQS events carrying EventBridge events (what shared.consumer.consume reads) ---


@pytest.fixture
def events() -> Any:
    class Events:
        eventbridge = staticmethod(eventbridge_event)
        sqs = staticmethod(sqs_event)

    return Events


# --- DynamoDB stream records of the orders table, read back from moto's stream ---


@pytest.fixture
def orders_stream(aws: Any) -> Any:
    streams = boto3.client("dynamodbstreams", region_name=REGION, config=Config(account_id_endpoint_mode="disabled"))
    stream_arn = aws.describe_table(TableName=ORDERS_TABLE)["Table"]["LatestStreamArn"]
    shard_id = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    state = {
        "iterator": streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
    }

    class Stream:
        @staticmethod
        def read_event() -> dict[str, Any]:
            """New stream records since the last read, as the Lambda event source mapping delivers them."""
            response = streams.get_records(ShardIterator=state["iterator"])
            state["iterator"] = response.get("NextShardIterator", state["iterator"])
            records = []
            for record in response["Records"]:
                dynamodb = dict(record["dynamodb"])
                created = dynamodb.get("ApproximateCreationDateTime")
                if isinstance(created, datetime):
                    dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
                records.append({**record, "dynamodb": dynamodb, "eventSourceARN": stream_arn})
            return {"Records": records}

    return Stream


# --- log capture: the service's Logger writes JSON lines to its own stream ---


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> Iterator[Any]:
    handler = orders_logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)  # type: ignore[attr-defined]
    previous_level = orders_logger.log_level
    orders_logger.setLevel("DEBUG")
    # Our logger and the Powertools utilities we use; botocore's wire-level DEBUG logs print every
    # request body by design and are never enabled in a deployed function.
    for name in ("orders", "shared", "aws_lambda_powertools"):
        caplog.set_level("DEBUG", logger=name)

    class Logs:
        @staticmethod
        def text() -> str:
            ours = [r for r in caplog.records if r.name.split(".")[0] in ("orders", "shared", "aws_lambda_powertools")]
            return buffer.getvalue() + "\n" + "\n".join(f"{r.getMessage()} {r.__dict__}" for r in ours)

        @staticmethod
        def lines() -> list[dict[str, Any]]:
            return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield Logs
    handler.setStream(previous)  # type: ignore[attr-defined]
    orders_logger.setLevel(previous_level)


_HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Handlers flush Metrics on every invocation; most invocations here emit only single metrics.
    quiet = pytest.mark.filterwarnings("ignore:No application metrics to publish")
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(quiet)
