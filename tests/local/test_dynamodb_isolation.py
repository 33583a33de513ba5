"""DynamoDB's isolation on the local cloud: atomic per item, transactions that conflict, no global lock.

Every call goes through boto3 to the cloud's moto server, so the errors are checked as a service's
client sees them. A conflict is made deterministic by holding an item's lock from the test (the
server runs in this process): that is what an in-flight transaction looks like to other requests.
"""

from __future__ import annotations

import concurrent.futures
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.dynamodb_locks import LOCKS, WRITE
from tests.support.dynamodb_locks import item_held

THREADS, DECREMENTS, STOCK = 16, 20, 50


def table_name(cloud: Any) -> str:
    return str(cloud.find(type="AWS::DynamoDB::Table", path_contains="/RecordsTable/").physical_id)


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


@contextmanager
def in_flight_transaction(cloud: Any, pk: str) -> Iterator[None]:
    """Holds an item the way a TransactWriteItems in progress does, on another thread."""
    with item_held(cloud, table_name(cloud), key(pk)) as held:
        yield
    assert LOCKS.holder(held.item) is None


def decrement(dynamodb: Any, table: str, pk: str) -> bool:
    try:
        dynamodb.update_item(
            TableName=table,
            Key=key(pk),
            UpdateExpression="SET available = available - :one",
            ConditionExpression="available >= :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ConditionalCheckFailedException", error.response
        return False
    return True


def test_conditional_decrements_of_one_item_never_lose_an_update(cloud: Any, unique: str) -> None:
    table, pk = table_name(cloud), f"stock-{unique}"
    cloud.client("dynamodb").put_item(TableName=table, Item={**key(pk), "available": {"N": str(STOCK)}})
    clients = [cloud.client("dynamodb") for _ in range(THREADS)]

    def worker(dynamodb: Any) -> int:
        return sum(decrement(dynamodb, table, pk) for _ in range(DECREMENTS))

    # Switching threads far more often than every 5 ms makes moto's read-check-write race show
    # up reliably (without per-item locks this gives 54-137 successes instead of 50).
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=THREADS) as pool:
            succeeded = sum(pool.map(worker, clients))
    finally:
        sys.setswitchinterval(interval)

    assert succeeded == STOCK
    item = cloud.client("dynamodb").get_item(TableName=table, Key=key(pk), ConsistentRead=True)["Item"]
    assert item["available"] == {"N": "0"}


def test_a_transaction_meeting_an_in_flight_one_is_cancelled_with_a_conflict(cloud: Any, unique: str) -> None:
    table, hot, other = table_name(cloud), f"hot-{unique}", f"other-{unique}"
    dynamodb = cloud.client("dynamodb")
    dynamodb.put_item(TableName=table, Item={**key(hot), "n": {"N": "1"}})
    actions = [
        {"Put": {"TableName": table, "Item": {**key(other), "n": {"N": "7"}}}},
        {
            "Update": {
                "TableName": table,
                "Key": key(hot),
                "UpdateExpression": "SET n = n + :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
    ]

    with in_flight_transaction(cloud, hot), pytest.raises(ClientError) as raised:
        dynamodb.transact_write_items(TransactItems=actions)

    response = raised.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    assert response["Error"]["Message"] == (
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]"
    )
    assert response["CancellationReasons"] == [
        {"Code": "None"},
        {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"},
    ]
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key(other), ConsistentRead=True)  # nothing written
    # once the other transaction is over, the same request commits
    dynamodb.transact_write_items(TransactItems=actions)
    assert dynamodb.get_item(TableName=table, Key=key(hot), ConsistentRead=True)["Item"]["n"] == {"N": "2"}


def test_transact_get_items_on_an_item_in_a_transaction_is_cancelled(cloud: Any, unique: str) -> None:
    table, hot = table_name(cloud), f"read-{unique}"
    dynamodb = cloud.client("dynamodb")
    dynamodb.put_item(TableName=table, Item={**key(hot), "n": {"N": "1"}})
    gets = [{"Get": {"TableName": table, "Key": key(hot)}}]

    with in_flight_transaction(cloud, hot), pytest.raises(ClientError) as raised:
        dynamodb.transact_get_items(TransactItems=gets)

    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in raised.value.response["CancellationReasons"]] == ["TransactionConflict"]
    assert dynamodb.transact_get_items(TransactItems=gets)["Responses"][0]["Item"]["n"] == {"N": "1"}


def test_a_single_write_to_an_item_in_a_transaction_gets_transaction_conflict(cloud: Any, unique: str) -> None:
    table, hot = table_name(cloud), f"single-{unique}"
    dynamodb = cloud.client("dynamodb")
    dynamodb.put_item(TableName=table, Item={**key(hot), "n": {"N": "1"}})

    with in_flight_transaction(cloud, hot):
        for call in (
            lambda: dynamodb.put_item(TableName=table, Item={**key(hot), "n": {"N": "5"}}),
            lambda: dynamodb.update_item(
                TableName=table,
                Key=key(hot),
                UpdateExpression="SET n = :five",
                ExpressionAttributeValues={":five": {"N": "5"}},
            ),
            lambda: dynamodb.delete_item(TableName=table, Key=key(hot)),
        ):
            with pytest.raises(dynamodb.exceptions.TransactionConflictException) as raised:
                call()
            assert raised.value.response["Error"]["Message"] == "Transaction is ongoing for the item"
        # a read is not a conflict; other items are not held up
        assert dynamodb.get_item(TableName=table, Key=key(hot))["Item"]["n"] == {"N": "1"}
        dynamodb.put_item(TableName=table, Item={**key(f"free-{unique}"), "n": {"N": "1"}})

    assert dynamodb.get_item(TableName=table, Key=key(hot))["Item"]["n"] == {"N": "1"}


def test_a_write_in_progress_holds_up_only_its_own_item(cloud: Any, unique: str) -> None:
    """No process-wide lock: while one item is being written, another item's write completes."""
    table, busy, free = table_name(cloud), f"busy-{unique}", f"free-{unique}"
    dynamodb = cloud.client("dynamodb")
    with (
        item_held(cloud, table, key(busy), how=WRITE) as held,
        concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool,
    ):
        waiting = pool.submit(dynamodb.put_item, TableName=table, Item={**key(busy), "n": {"N": "2"}})
        dynamodb.put_item(TableName=table, Item={**key(free), "n": {"N": "1"}})
        assert not waiting.done()  # the same item waits for the write in progress
        # a transaction does not wait: the item is held, so it is cancelled
        with pytest.raises(ClientError) as raised:
            dynamodb.transact_write_items(
                TransactItems=[{"Put": {"TableName": table, "Item": {**key(busy), "n": {"N": "3"}}}}]
            )
        assert [r["Code"] for r in raised.value.response["CancellationReasons"]] == ["TransactionConflict"]
        held.release.set()
        waiting.result(timeout=10)
    assert dynamodb.get_item(TableName=table, Key=key(busy))["Item"]["n"] == {"N": "2"}
