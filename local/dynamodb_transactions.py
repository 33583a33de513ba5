"""TransactWriteItems for moto's DynamoDB: check everything first, then write, undo item by item.

moto 5.2.5 applies a transaction's writes one by one and, to roll back, deep-copies every table
the transaction touches beforehand and swaps the copies in on failure. That has two effects a
stream consumer feels: the swapped-in table has a new stream shard object, so every reader of
the old one (the runner's stream pollers, any open shard iterator) silently stops seeing new
records after the first cancelled transaction; and the records of the cancelled writes stay
in the old shard. It is also O(table size) per transaction, quadratic over a benchmark.

This version behaves as DynamoDB does. It first takes the lock of every item it touches without
waiting (local.dynamodb_locks): an item that another transaction or write holds cancels it with
a `TransactionConflict` reason for that item. Holding them all, it evaluates every condition
against the state before the transaction; only if every one holds are the writes applied, and
a write that fails validation midway is undone on just the items involved, its stream records
included (the shards' locks are held meanwhile, so no stream reader has seen them). A cancelled
transaction leaves no stream records.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from local.dynamodb_locks import LOCKS, ItemId, cancelled, item_id


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.exceptions import TooManyTransactionsException

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    items = [_item_id(self, entry) for entry in transact_items]
    with LOCKS.tables({item[0] for item in items if item}), LOCKS.transaction(items) as conflicts:
        if conflicts:
            raise cancelled(len(transact_items), conflicts)
        _transact_write_items(self, transact_items, items)


def _item_id(backend: Any, entry: Any) -> ItemId | None:
    try:
        op_type, op = next(iter(entry.items()))
        return item_id(backend.get_table(op["TableName"]), op["Item"] if op_type == "Put" else op["Key"])
    except Exception:  # malformed: reported by the checks below
        return None


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]], items: list[ItemId | None]) -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    targets: set[tuple[str, str]] = set()
    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    operations: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = []

    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        original_item: dict[str, Any] | None = None
        try:
            op_type, op = next(iter(entry.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            key = _key(self, op_type, op, table_name)
            target = (str(table_name), str(dict(sorted(key.items()))))
            if target in targets:
                raise MultipleTransactionsException()
            targets.add(target)
            condition = op.get("ConditionExpression")
            if condition is not None:
                current = self.get_item(table_name, key)
                check = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not check.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)
            operations.append((op_type, op, table_name, key))
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except ConditionalCheckFailed as error:
            errors.append(("ConditionalCheckFailed", str(error.message), original_item))  # type: ignore[arg-type]
        except Exception as error:
            errors.append((type(error).__name__, str(error), original_item))  # type: ignore[arg-type]
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)

    writes = [(table_name, key) for op_type, _, table_name, key in operations if op_type != "ConditionCheck"]
    snapshot = [_snapshot(self, table_name, key) for table_name, key in writes]
    shards = {id(table.stream_shard): table.stream_shard for table, *_ in snapshot if table.stream_shard is not None}
    with contextlib.ExitStack() as held:
        held.enter_context(LOCKS.applying(items))  # from here on, readers wait for the outcome
        for shard_id in sorted(shards):
            held.enter_context(LOCKS.shard(shards[shard_id]))
        _apply(self, operations, snapshot, shards)


def _apply(self: Any, operations: list[Any], snapshot: list[Any], shards: dict[int, Any]) -> None:
    from moto.dynamodb.exceptions import MockValidationException, TransactionCanceledException

    stream_lengths = {shard_id: len(shard.items) for shard_id, shard in shards.items()}
    try:
        for op_type, op, table_name, key in operations:
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(
                    table_name, op["Item"], expression_attribute_names=names, expression_attribute_values=values
                )
            elif op_type == "Delete":
                self.delete_item(table_name, key, expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(
                    table_name,
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
    except Exception as error:
        for saved in reversed(snapshot):
            _restore(*saved)
        # Stream readers take the shards' locks, held since before these writes: drop them.
        for shard_id, length in stream_lengths.items():
            del shards[shard_id].items[length:]
        if isinstance(error, MockValidationException):
            raise
        raise TransactionCanceledException([(type(error).__name__, str(error), None)]) from error


def _key(backend: Any, op_type: str, op: dict[str, Any], table_name: str) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    table = backend.get_table(table_name)
    attributes = op["Item"]
    key = {table.hash_key_attr: attributes[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attributes[table.range_key_attr]
    return key


def _snapshot(backend: Any, table_name: str, key: dict[str, Any]) -> tuple[Any, Any, Any, Any]:
    table = backend.get_table(table_name)
    hash_key, range_key = backend.get_keys_value(table, key)
    return table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))


def _restore(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    """Puts an item back as it was (or removes it), without a stream record."""
    if range_key is not None:
        if item is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item
    elif item is None:
        table.items.pop(hash_key, None)
    else:
        table.items[hash_key] = item
