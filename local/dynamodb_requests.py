"""moto's DynamoDB requests under the item locks of local.dynamodb_locks; installed once per process.

Where the locks go: the request handler's single-item actions (PutItem, UpdateItem, DeleteItem,
GetItem) hold their item for the whole request, ReturnValues and the answer included; the
backend's item methods lock again (re-entrantly), which covers each write of a BatchWriteItem,
each read of a BatchGetItem and the writes a transaction applies. Query and Scan take their
table's gate exclusively, TransactGetItems takes its items without waiting, PartiQL takes every
table, and stream reads take their shard's lock. TransactWriteItems is local.dynamodb_transactions.

Only requests to the local cloud's server are isolated: another moto user in the same process
(`mock_aws()` in a unit test run after a local cloud, with its own locking) keeps moto's own
behaviour, so two lock orders never meet.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from local.dynamodb_locks import LOCKS, ItemId, cancelled, item_id


def serving_local_request() -> bool:
    from local.patches.state import State

    return bool(getattr(State.request, "local", False))


def _target(backend: Any, table_name: Any, key: Any) -> tuple[str, ItemId] | None:
    if not isinstance(table_name, str) or not isinstance(key, dict):
        return None
    try:
        table = backend.get_table(table_name)
    except Exception:  # unknown table: moto answers ResourceNotFoundException
        return None
    item = item_id(table, key)
    return None if item is None else (item[0], item)


def _table_arn(backend: Any, table_name: Any) -> str | None:
    try:
        return str(backend.get_table(table_name).table_arn)
    except Exception:
        return None


def _item_operation(method: Any, key_param: str, *, write: bool, copy_result: bool = False) -> Any:
    """A DynamoDBBackend item method (args: table name, key or item) under its item's lock."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        table_name = args[0] if args else kwargs.get("table_name")
        key = args[1] if len(args) > 1 else kwargs.get(key_param)
        target = _target(self, table_name, key) if serving_local_request() else None
        if target is None:
            return method(self, *args, **kwargs)
        table, item = target
        with LOCKS.tables([table]), LOCKS.write(item) if write else LOCKS.read(item):
            result = method(self, *args, **kwargs)
            # moto hands out its live Item; a copy can't change under a later serialisation.
            return copy.deepcopy(result) if copy_result else result

    return wrapper


def _request(method: Any, key_field: str, *, write: bool) -> Any:
    """A DynamoHandler action on one item: the whole request (ReturnValues too) under its lock."""

    @functools.wraps(method)
    def wrapper(self: Any) -> Any:
        body = self.body if isinstance(self.body, dict) else {}
        target = (
            _target(self.dynamodb_backend, body.get("TableName"), body.get(key_field))
            if serving_local_request()
            else None
        )
        if target is None:
            return method(self)
        table, item = target
        with LOCKS.tables([table]), LOCKS.write(item) if write else LOCKS.read(item):
            return method(self)

    return wrapper


def _scan(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(self: Any) -> Any:
        body = self.body if isinstance(self.body, dict) else {}
        table = _table_arn(self.dynamodb_backend, body.get("TableName")) if serving_local_request() else None
        if table is None:
            return method(self)
        with LOCKS.tables([table], exclusive=True):
            return method(self)

    return wrapper


def _transact_get(method: Any) -> Any:
    @functools.wraps(method)
    def wrapper(self: Any) -> Any:
        entries = self.body.get("TransactItems") if isinstance(self.body, dict) else None
        if not isinstance(entries, list) or not serving_local_request():
            return method(self)
        gets = [entry.get("Get", {}) if isinstance(entry, dict) else {} for entry in entries]
        targets = [_target(self.dynamodb_backend, get.get("TableName"), get.get("Key")) for get in gets]
        items = [target[1] if target else None for target in targets]
        tables = [target[0] for target in targets if target]
        with LOCKS.tables(tables), LOCKS.transaction(items, write=False) as conflicts:
            if conflicts:
                raise cancelled(len(entries), conflicts)
            return method(self)

    return wrapper


def _all_tables(method: Any) -> Any:
    """PartiQL reads and writes any table: it runs with every table to itself."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not serving_local_request():
            return method(self, *args, **kwargs)
        with LOCKS.tables([table.table_arn for table in list(self.tables.values())], exclusive=True):
            return method(self, *args, **kwargs)

    return wrapper


def install() -> None:
    """Patches moto's DynamoDB (backend, request handler, stream reads); once per process."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    backend: Any = DynamoDBBackend
    backend.put_item = _item_operation(backend.put_item, "item_attrs", write=True)
    backend.update_item = _item_operation(backend.update_item, "key", write=True)
    backend.delete_item = _item_operation(backend.delete_item, "key", write=True)
    backend.get_item = _item_operation(backend.get_item, "keys", write=False, copy_result=True)
    for name in ("execute_statement", "execute_transaction", "batch_execute_statement"):
        setattr(backend, name, _all_tables(getattr(backend, name)))

    handler: Any = DynamoHandler
    handler.put_item = _request(handler.put_item, "Item", write=True)
    handler.update_item = _request(handler.update_item, "Key", write=True)
    handler.delete_item = _request(handler.delete_item, "Key", write=True)
    handler.get_item = _request(handler.get_item, "Key", write=False)
    handler.query = _scan(handler.query)
    handler.scan = _scan(handler.scan)
    handler.transact_get_items = _transact_get(handler.transact_get_items)

    original_get_records = DynamoDBStreamsBackend.get_records

    @functools.wraps(original_get_records)
    def get_records(self: Any, iterator_arn: str, limit: int) -> dict[str, Any]:
        iterator = self.shard_iterators.get(iterator_arn)
        if iterator is None or not serving_local_request():
            return original_get_records(self, iterator_arn, limit)
        with LOCKS.shard(iterator.stream_shard):
            return original_get_records(self, iterator_arn, limit)

    DynamoDBStreamsBackend.get_records = get_records  # type: ignore[method-assign]
