"""What `make bench` measures in its own process: this process's CPU, and the CPU a moto server
running here (the local cloud's) spends per DynamoDB request of each kind."""

from __future__ import annotations

import resource
import subprocess
import sys
import uuid
from typing import Any


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
