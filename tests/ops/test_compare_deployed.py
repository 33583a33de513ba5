"""`python -m ops.compare --stack`: CloudWatch's sums per resource, the signed workload, the arguments."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from botocore.credentials import Credentials

from local.background_server import BackgroundServer
from ops.compare.cloudwatch import Function, Inventory, inventory, read_sums, usage_of
from ops.compare.constants import MODEL
from ops.compare.deployed import EXPECTED, Placed, SignedApi, Window, await_metrics, minute, run_windows
from ops.compare.deployed_render import analyse, per_order, render
from ops.compare.run import main

REGION = "eu-west-1"
START = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


# --- CloudWatch ---------------------------------------------------------------------------------


def _put(cloudwatch: Any, namespace: str, name: str, dims: dict[str, str], value: float, at: datetime) -> None:
    cloudwatch.put_metric_data(
        Namespace=namespace,
        MetricData=[
            {
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                "Value": value,
                "Timestamp": at,
            }
        ],
    )


def _inventory() -> Inventory:
    return Inventory(
        functions=[Function("orders-api", 1024, "arm64", "/orderflow/orders-api"), Function("inventory-fn", 512)],
        state_machines={"arn:aws:states:eu-west-1:123456789012:stateMachine:saga": "EXPRESS"},
        rules=[("orderflow-bus", "timeline"), ("orderflow-bus", "shipping")],
        queues=["shipping-queue"],
        tables={"orders": ["by-customer"]},
        apis=["Orderflow-api"],
        log_groups=["/orderflow/orders-api", "/orderflow/access"],
        topics=["notifications"],
    )


def test_cloudwatch_sums_per_resource_within_the_window(aws: None) -> None:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    inside = [START + timedelta(seconds=30), START + timedelta(seconds=90)]
    outside = START + timedelta(minutes=10)
    saga = "arn:aws:states:eu-west-1:123456789012:stateMachine:saga"
    for at in inside:
        _put(cloudwatch, "AWS/Lambda", "Invocations", {"FunctionName": "orders-api"}, 6, at)
        _put(cloudwatch, "AWS/Lambda", "Duration", {"FunctionName": "orders-api"}, 500, at)
        _put(cloudwatch, "AWS/Lambda", "Invocations", {"FunctionName": "inventory-fn"}, 1, at)
        _put(cloudwatch, "AWS/States", "ExecutionsStarted", {"StateMachineArn": saga}, 2, at)
        _put(
            cloudwatch, "AWS/Events", "MatchedEvents", {"EventBusName": "orderflow-bus", "RuleName": "timeline"}, 5, at
        )
        _put(
            cloudwatch, "AWS/Events", "MatchedEvents", {"EventBusName": "orderflow-bus", "RuleName": "shipping"}, 1, at
        )
        _put(cloudwatch, "AWS/SQS", "NumberOfMessagesSent", {"QueueName": "shipping-queue"}, 3, at)
        _put(cloudwatch, "AWS/SQS", "NumberOfEmptyReceives", {"QueueName": "shipping-queue"}, 40, at)
        _put(cloudwatch, "AWS/DynamoDB", "ConsumedWriteCapacityUnits", {"TableName": "orders"}, 4, at)
        index = {"TableName": "orders", "GlobalSecondaryIndexName": "by-customer"}
        _put(cloudwatch, "AWS/DynamoDB", "ConsumedWriteCapacityUnits", index, 2, at)
        _put(cloudwatch, "AWS/ApiGateway", "Count", {"ApiName": "Orderflow-api"}, 7, at)
        _put(cloudwatch, "AWS/Logs", "IncomingBytes", {"LogGroupName": "/orderflow/orders-api"}, 1000, at)
        _put(cloudwatch, "AWS/Logs", "IncomingBytes", {"LogGroupName": "/orderflow/access"}, 200, at)
    for at in (saga_time := [START + timedelta(seconds=10), START + timedelta(seconds=70)]):
        _put(cloudwatch, "AWS/States", "ExecutionTime", {"StateMachineArn": saga}, 250, at)
    assert len(saga_time) == 2
    # outside the window, and a resource of another stack: neither counts
    _put(cloudwatch, "AWS/Lambda", "Invocations", {"FunctionName": "orders-api"}, 100, outside)
    _put(cloudwatch, "AWS/Lambda", "Invocations", {"FunctionName": "someone-else"}, 100, inside[0])

    found = _inventory()
    sums = read_sums(cloudwatch, found.metrics(), START, START + timedelta(minutes=2))
    by_resource = {(m.namespace, m.name, m.stat, m.resource): v for m, v in sums.items()}
    assert by_resource["AWS/Lambda", "Invocations", "Sum", "orders-api"] == 12
    assert by_resource["AWS/Lambda", "Invocations", "Sum", "inventory-fn"] == 2
    assert by_resource["AWS/Lambda", "Duration", "Sum", "orders-api"] == 1000
    assert by_resource["AWS/States", "ExecutionTime", "SampleCount", saga] == 2
    assert by_resource["AWS/Events", "MatchedEvents", "Sum", "orderflow-bus/timeline"] == 10
    assert by_resource["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "Sum", "orders/by-customer"] == 4
    assert by_resource["AWS/Logs", "IncomingBytes", "Sum", "/orderflow/access"] == 400

    usage = usage_of(sums, found)
    assert usage["lambda_invocations"] == 14
    assert usage["lambda_gb_seconds"] == pytest.approx(1000 / 1000 * 1024 / 1024)
    assert usage["express_executions"] == 4
    assert usage["express_gb_seconds"] == pytest.approx(2 * 0.0625 * 0.3)  # 250 ms billed as 300
    assert usage["putevents_entries"] == 10  # the most-matching rule, not the sum of matches
    assert usage["rule_matches"] == 12
    assert usage["sqs_send"] == 6
    assert usage["sqs_empty_receives"] == 80
    assert usage["dynamodb_wru"] == 12  # the table and its index
    assert usage["api_requests"] == 14
    assert usage["log_bytes"] == 2400
    assert usage["function_log_bytes"] == 2000


def test_inventory_reads_the_stacks_resources_by_type(aws: None) -> None:
    template = {
        "Resources": {
            "ShippingQueueB1A2C3D4": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "shipping-queue"}},
            "OrdersTable1F8332C7": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "TableName": "orders",
                    "BillingMode": "PAY_PER_REQUEST",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "customer", "AttributeType": "S"},
                    ],
                    "GlobalSecondaryIndexes": [
                        {
                            "IndexName": "by-customer",
                            "KeySchema": [{"AttributeName": "customer", "KeyType": "HASH"}],
                            "Projection": {"ProjectionType": "ALL"},
                        }
                    ],
                },
            },
            "AccessLogs0A1B2C3D": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/orderflow/access"}},
            "AlertsTopic9F8E7D6C": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}},
        }
    }
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    cloudformation.create_stack(StackName="Orderflow", TemplateBody=json.dumps(template))
    found = inventory(cloudformation, boto3.client("lambda", region_name=REGION), "Orderflow")
    assert found.queues == ["shipping-queue"]
    assert found.tables == {"orders": ["by-customer"]}
    assert found.log_groups == ["/orderflow/access"]
    assert found.topics == ["alerts"]
    names = {(m.namespace, m.name, m.resource) for m in found.metrics()}
    assert ("AWS/SQS", "NumberOfEmptyReceives", "shipping-queue") in names
    assert ("AWS/DynamoDB", "ConsumedReadCapacityUnits", "orders/by-customer") in names


# --- the signed workload ------------------------------------------------------------------------


class FakeApi(BaseHTTPRequestHandler):
    """Answers like orderflow's API: orchestrated at once, choreographed 202 then decided on the second GET."""

    seen: list[dict[str, Any]] = []
    orders: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        with FakeApi.lock:
            FakeApi.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers)})
        return body or {}

    def do_PUT(self) -> None:
        self._record()
        self._answer(200, {"sku": self.path.rsplit("/", 1)[-1]})

    def do_POST(self) -> None:
        body = self._record()
        sku = body["items"][0]["sku"]
        decision = (
            ("REJECTED", "OUT_OF_STOCK", 409)
            if sku.endswith("-empty")
            else ("REJECTED", "PAYMENT_DECLINED", 402)
            if body["payment"]["token"] == "tok_chargeDeclined"
            else ("CONFIRMED", None, 201)
        )
        order_id = f"o-{len(FakeApi.orders)}-{self.headers['X-Correlation-Id']}"
        with FakeApi.lock:
            FakeApi.orders[order_id] = {"decision": decision, "gets": 0}
        if body["flow"] == "choreographed":
            self._answer(202, {"order_id": order_id, "status": "PENDING"})
        else:
            self._answer(decision[2], {"order_id": order_id, "status": decision[0], "reason": decision[1]})

    def do_GET(self) -> None:
        self._record()
        order = FakeApi.orders[self.path.rsplit("/", 1)[-1]]
        order["gets"] += 1
        status, reason, _ = order["decision"]
        self._answer(200, {"status": status if order["gets"] >= 2 else "PENDING", "reason": reason})


@pytest.fixture
def fake_api() -> Iterator[str]:
    FakeApi.seen, FakeApi.orders = [], {}
    server = BackgroundServer(ThreadingHTTPServer(("127.0.0.1", 0), FakeApi), "fake-api").start()
    try:
        yield f"{server.url}/prod"
    finally:
        server.stop()


def test_the_workload_is_signed_and_measured(fake_api: str) -> None:
    api = SignedApi(fake_api, Credentials("AKIDEXAMPLE", "secret"), REGION)
    waits: list[float] = []  # a clock that the waits move on, instead of sleeping

    def now() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=sum(waits))

    windows = run_windows(api, 2, 7, 2, lambda _: None, settle=0, poll_interval=0.01, sleep=waits.append, now=now)

    assert [w.path for w in windows] == ["orchestrated", "choreographed"]
    assert len(waits) == 1  # to the next minute boundary between the paths, never more than a minute
    assert 0 <= waits[0] <= 60
    assert windows[0].end == windows[1].start
    assert all(w.start.second == 0 and w.end > w.start for w in windows)
    signature = re.compile(r"^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/eu-west-1/execute-api/aws4_request, ")
    assert len(FakeApi.seen) == 2 + 12 + 2 * 6  # 2 PUTs, 12 POSTs, 2 polls per choreographed order
    for request in FakeApi.seen:
        assert signature.match(request["headers"]["Authorization"]), request
        assert "x-correlation-id" in request["headers"]["Authorization"]  # signed, not only sent
        assert request["headers"]["X-Correlation-Id"]
        assert request["headers"]["X-Amz-Date"]
    posts = [r for r in FakeApi.seen if r["method"] == "POST"]
    assert len({r["headers"]["X-Correlation-Id"] for r in posts}) == 12
    assert all(r["headers"]["Idempotency-Key"] == r["headers"]["X-Correlation-Id"] for r in posts)
    for window in windows:
        assert len(window.orders) == 6
        for order in window.orders:
            assert order.final_status == EXPECTED[order.outcome]
            assert order.latency_ms is not None and order.latency_ms > 0
            assert order.polls == (2 if window.path == "choreographed" else 0)
            answered = {"confirmed": 201, "out of stock": 409, "declined": 402}[order.outcome]
            assert order.status == (202 if window.path == "choreographed" else answered)
    assert windows[0].own_requests == 2 and windows[1].own_requests == 12


def test_an_order_without_a_decision_is_reported_not_timed(fake_api: str) -> None:
    api = SignedApi(fake_api, Credentials("AKIDEXAMPLE", "secret"), REGION)
    windows = run_windows(api, 1, 1, 1, lambda _: None, settle=0, decision_wait=0, sleep=lambda _: None)
    choreographed = windows[1].orders
    assert all(o.latency_ms is None and o.final_status == "undecided (HTTP 202)" for o in choreographed)


# --- waiting for CloudWatch, the figures, the arguments -----------------------------------------


def _window(requests: int) -> Window:
    return Window("orchestrated", START, START + timedelta(minutes=1), own_requests=requests)


def test_metrics_are_read_until_they_cover_the_run_and_settle() -> None:
    window = _window(4)
    answers = iter([0.0, 3.0, 4.0, 9.0, 9.0, 9.0])
    sleeps: list[float] = []
    clock = iter(range(0, 1000, 1))

    def read(_: Window) -> dict[str, float]:
        value = next(answers)
        return {"api_requests": value, "lambda_invocations": value}

    readings, complete = await_metrics(
        read,
        [window],
        lambda _: None,
        interval=5,
        clock=lambda: float(next(clock)),
        sleep=sleeps.append,
        now=lambda: START + timedelta(hours=1),
    )
    assert complete
    assert readings == [{"api_requests": 9.0, "lambda_invocations": 9.0}]
    assert sleeps == [5, 5, 5, 5]


def test_metrics_wait_is_bounded() -> None:
    said: list[str] = []
    readings, complete = await_metrics(
        lambda _: {"api_requests": 1.0, "lambda_invocations": 1.0},
        [_window(4)],
        said.append,
        metrics_wait=10,
        interval=4,
        clock=iter([0.0, 0.0, 4.0, 8.0]).__next__,
        sleep=lambda _: None,
        now=lambda: START + timedelta(hours=1),
    )
    assert not complete
    assert readings[0]["api_requests"] == 1.0
    assert "--metrics-wait is over" in said[-1]


def test_counts_per_order_and_cost_leave_the_tools_own_requests_out() -> None:
    window = _window(10)
    window.orders = [Placed("orchestrated", "confirmed", f"c{i}") for i in range(5)]
    usage = {"api_requests": 15.0, "lambda_invocations": 30.0, "dynamodb_wru": 20.0}
    counts = per_order(window, usage)
    assert counts == {"api_requests": 1.0, "lambda_invocations": 4.0, "dynamodb_wru": 4.0}
    model = json.loads(MODEL.read_text())
    results = analyse([window], [usage], _inventory(), model)
    us_east = results["costs"]["us-east-1"][0]
    assert us_east["API Gateway"] == pytest.approx(3.5)  # one request per order at $3.50 per million
    assert us_east["DynamoDB"] == pytest.approx(4 * 0.625)
    meta = {
        "stack": "S",
        "region": REGION,
        "seed": 1,
        "orders_per_case": 5,
        "clients": 1,
        "model_version": "v",
        "measured_at": "now",
        "poll_interval": 0.25,
        "decision_wait": 60,
        "complete": False,
    }
    markdown = render(results, [window], [usage], meta)
    assert "## Cost per million orders (us-east-1)" in markdown
    assert "before they had all arrived" in markdown


def test_minute_boundaries() -> None:
    assert minute(START + timedelta(seconds=59)) == START
    assert minute(START + timedelta(seconds=1), up=True) == START + timedelta(minutes=1)
    assert minute(START, up=True) == START


def test_a_stack_that_does_not_exist_is_named(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "NoSuchOrderflow", "--region", REGION]) == 2
    error = capsys.readouterr().err
    assert "NoSuchOrderflow" in error
    assert "no stack" in error and REGION in error


def test_a_run_against_a_stack_prints_and_writes_only_when_asked(
    aws: None, fake_api: str, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    template = {
        "Resources": {
            "OrdersApiFunction0A1B2C3D": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": "orders-api",
                    "Runtime": "python3.11",
                    "Handler": "index.handler",
                    "Role": role,
                    "MemorySize": 1024,
                    "Code": {"ZipFile": "def handler(event, context):\n    return {}\n"},
                },
            }
        },
        "Outputs": {"ApiUrl": {"Value": fake_api}},
    }
    boto3.client("cloudformation", region_name=REGION).create_stack(
        StackName="Orderflow", TemplateBody=json.dumps(template)
    )
    from argparse import Namespace

    from ops.compare.deployed_cli import run

    waits: list[float] = []
    args = Namespace(
        stack="Orderflow",
        region=REGION,
        profile=None,
        orders=1,
        seed=3,
        clients=1,
        output=None,
        metrics_wait=0,
        settle=0,
        decision_wait=5,
        poll_interval=0.01,
    )

    def now() -> datetime:
        return datetime.now(UTC) + timedelta(seconds=sum(waits))

    assert run(args, lambda _: None, waits.append, now) == 0
    printed = capsys.readouterr().out
    assert "| orchestrated | declined | 1 | 402×1 | REJECTED PAYMENT_DECLINED×1 | 1/1 |" in printed
    assert "| choreographed | confirmed | 1 | 202×1 | CONFIRMED×1 | 1/1 |" in printed
    assert "before they had all arrived" in printed  # moto's CloudWatch never counts the run
    assert not list(tmp_path.iterdir())
    args.output = tmp_path / "deployed.md"
    assert run(args, lambda _: None, waits.append, now) == 0
    assert args.output.read_text().startswith("# Orchestration against choreography, deployed")
