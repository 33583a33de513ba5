"""What `make bench` measures in its own process: this process's CPU, the CPU a moto server
running here (the local cloud's) spends per DynamoDB request of each kind, and its CPU per
operation while a workload runs."""

from __future__ import annotations

import contextlib
import re
import resource
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs


def process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# One SDK call per kind, made by a separate process so that only moto's side is counted here.
_REQUEST_CLIENT = """
import sys, boto3
endpoint, table, key, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id="bench", aws_secret_access_key="bench")
line = {"M": {"sku": {"S": "s"}, "quantity": {"N": "1"}}}
item = {key: {"S": "bench"}, "status": {"S": "PENDING"}, "items": {"L": [line]}}
client.put_item(TableName=table, Item=item)
names = {"#s": "status", "#v": "version", "#k": key}
values = {":s": {"S": "CONFIRMED"}, ":zero": {"N": "0"}, ":one": {"N": "1"}}
calls = {
    "GetItem": lambda i: client.get_item(TableName=table, Key={key: {"S": "bench"}}),
    "PutItem": lambda i: client.put_item(
        TableName=table, Item={**item, key: {"S": f"bench-{i}"}},
        ConditionExpression="attribute_not_exists(#k)", ExpressionAttributeNames={"#k": key}),
    "UpdateItem": lambda i: client.update_item(
        TableName=table, Key={key: {"S": "bench"}},
        UpdateExpression="SET #s = :s, #v = if_not_exists(#v, :zero) + :one",
        ConditionExpression="attribute_exists(#k)", ExpressionAttributeNames=names, ExpressionAttributeValues=values),
}
for name, call in calls.items():
    sys.stdout.write(name + "\\n"); sys.stdout.flush()
    sys.stdin.readline()
    for i in range(count):
        call(i)
    sys.stdout.write("done\\n"); sys.stdout.flush()
    sys.stdin.readline()
"""


def moto_request_cpu_on_a_scratch_table(cloud: Any) -> dict[str, float]:
    """moto_request_cpu on a table of its own (no stream, nothing of the app's reads it), removed after."""
    dynamodb = cloud.client("dynamodb")
    table = f"bench-requests-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        return moto_request_cpu(cloud.endpoint_url, table, "order_id")
    finally:
        dynamodb.delete_table(TableName=table)


def moto_request_cpu(endpoint_url: str, table: str, key: str, count: int = 300) -> dict[str, float]:
    """CPU ms a moto server running in this process spends per DynamoDB request, by kind: a
    client in another process makes `count` calls of each kind on `table` (hash key `key`)."""
    client = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", _REQUEST_CLIENT, endpoint_url, table, key, str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert client.stdin is not None and client.stdout is not None
    figures = {}
    try:
        while name := client.stdout.readline().strip():
            before = process_cpu_seconds()
            client.stdin.write("\n")
            client.stdin.flush()
            if client.stdout.readline().strip() != "done":
                break
            figures[name] = (process_cpu_seconds() - before) / count * 1000
            client.stdin.write("\n")
            client.stdin.flush()
    finally:
        client.wait(timeout=60)
    if client.returncode != 0 or len(figures) != 3:
        raise RuntimeError(f"the request client failed (exit code {client.returncode})")
    return figures


_LAMBDA_INVOKE = re.compile(r"^/2015-03-31/functions/[^/]+/invocations")


def operation_of(handler: Any) -> str:
    """ "service Operation" of a request moto's server answered (its signature names the service)."""
    headers = handler.headers
    scope = (headers.get("Authorization") or "").split("Credential=", 1)[-1].split("/")
    service = scope[3] if len(scope) > 3 else "?"
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service} {target.rsplit('.', 1)[-1]}"
    path = handler.path or ""
    if _LAMBDA_INVOKE.match(path):
        return f"{service} Invoke"
    body = getattr(handler, "environ", {}).get("wsgi.input")
    action = parse_qs(body.getvalue().decode("utf-8", "replace")).get("Action") if body is not None else None
    return f"{service} {action[0]}" if action else f"{service} {handler.command} {path.split('?')[0][:40]}"


@contextlib.contextmanager
def cpu_by_operation() -> Iterator[dict[str, list[float]]]:
    """While the block runs, the CPU seconds moto's server threads spend per operation (and the
    requests' count): {"dynamodb PutItem": [cpu_seconds, count], ...}. Each request is timed on
    its own thread's clock, so the other threads' work (and waiting for the GIL) is left out."""
    from local.moto_server import KeepAliveRequestHandler

    figures: dict[str, list[float]] = {}
    lock = threading.Lock()
    original_parse, original_run = KeepAliveRequestHandler.parse_request, KeepAliveRequestHandler.run_wsgi

    # From the request line read to the answer written (a connection's thread waits in between).
    def parse_request(self: Any) -> bool:
        self.cpu_started = time.thread_time()
        return original_parse(self)

    def run_wsgi(self: Any) -> None:
        try:
            original_run(self)
        finally:
            started = self.__dict__.pop("cpu_started", None)
            if started is not None:
                spent, name = time.thread_time() - started, operation_of(self)
                with lock:
                    entry = figures.setdefault(name, [0.0, 0])
                    entry[0] += spent
                    entry[1] += 1

    KeepAliveRequestHandler.parse_request = parse_request  # type: ignore[method-assign]
    KeepAliveRequestHandler.run_wsgi = run_wsgi  # type: ignore[method-assign]
    try:
        yield figures
    finally:
        KeepAliveRequestHandler.parse_request = original_parse  # type: ignore[method-assign]
        KeepAliveRequestHandler.run_wsgi = original_run  # type: ignore[method-assign]
