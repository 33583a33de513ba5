"""The DynamoDB hook: each request to moto's DynamoDB billed in read and write units
(`local.meter.dynamodb_units`), in all and per table, the simulated processor's ledger apart."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable
from typing import Any

from local.meter.attribution import item_correlation_ids, trace_root
from local.meter.dynamodb_units import index_write_units, item_size, key_of, read_units, stored_item, write_units
from local.meter.registry import active, count_all


def _body(result: Any) -> dict[str, Any]:
    value = getattr(result, "result", result)
    if isinstance(value, (str, bytes)):
        with contextlib.suppress(ValueError):
            value = json.loads(value)
    return value if isinstance(value, dict) else {}


Part = tuple[str, float, float]  # (what it is billed to: a table, or "processor"; read units, write units)


def _label(table: Any, key: Any) -> str:
    """The table a request unit belongs to, or `processor` for the simulated processor's ledger."""
    pk = key.get("pk") if isinstance(key, dict) else None
    if isinstance(pk, dict) and str(pk.get("S", "")).startswith("SIM#"):
        return "processor"
    return str(table or "?")


def install_dynamodb() -> None:
    from moto.dynamodb.responses import DynamoHandler

    handler: Any = DynamoHandler

    def metered(method: Any, measure: Callable[[Any, dict[str, Any], Callable[[], Any]], list[Part]]) -> Any:
        @functools.wraps(method)
        def wrapper(self: Any) -> Any:
            if not active():
                return method(self)
            body = self.body if isinstance(self.body, dict) else {}
            trace = trace_root((self.headers or {}).get("X-Amzn-Trace-Id"))
            holder: dict[str, Any] = {}

            def call() -> Any:
                # A refused request (a failed condition, a cancelled transaction) is billed too.
                try:
                    holder["result"] = method(self)
                except Exception as error:
                    holder["error"] = error
                return holder.get("result")

            # An item that names its order's correlation id is that order's, even when the function
            # that wrote it was handling a batch of several orders' records (the timeline's).
            cids = item_correlation_ids(body.get("Item"))
            for label, rru, wru in measure(self.dynamodb_backend, body, call):
                prefix = "processor" if label == "processor" else "dynamodb"
                if rru:
                    count_all(f"{prefix}_rru", rru, cids, trace=trace)
                    count_all(f"dynamodb_rru:{label}", rru, cids, trace=trace)
                if wru:
                    count_all(f"{prefix}_wru", wru, cids, trace=trace)
                    count_all(f"dynamodb_wru:{label}", wru, cids, trace=trace)
            if "error" in holder:
                raise holder["error"]
            return holder["result"]

        return wrapper

    def single_write(key_field: str) -> Any:
        def measure(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
            table = body.get("TableName")
            key = body.get(key_field) if key_field == "Key" else key_of(backend, table, body.get("Item"))
            old = stored_item(backend, table, key)
            call()
            new = stored_item(backend, table, key)
            size = max(item_size(old), item_size(new))
            if key_field == "Item":
                size = max(size, item_size(body.get("Item")))
            units = write_units(size) + index_write_units(backend, table, old, new)
            return [(_label(table, key), 0.0, units)]

        return measure

    def get(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
        result = call()
        size = item_size(_body(result).get("Item"))
        label = _label(body.get("TableName"), body.get("Key"))
        return [(label, read_units(size, bool(body.get("ConsistentRead"))), 0.0)]

    def query(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
        result = call()
        size = sum(item_size(item) for item in _body(result).get("Items", []) or [])
        return [(_label(body.get("TableName"), None), read_units(size, bool(body.get("ConsistentRead"))), 0.0)]

    def batch_get(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
        result = call()
        parts: list[Part] = []
        for table, items in (_body(result).get("Responses") or {}).items():
            consistent = bool((body.get("RequestItems") or {}).get(table, {}).get("ConsistentRead"))
            parts += [(_label(table, item), read_units(item_size(item), consistent), 0.0) for item in items]
        return parts

    def batch_write(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
        targets = []
        for table, requests in (body.get("RequestItems") or {}).items():
            for request in requests or []:
                if "PutRequest" in request:
                    item = request["PutRequest"].get("Item")
                    key = key_of(backend, table, item)
                else:
                    item, key = None, request.get("DeleteRequest", {}).get("Key")
                targets.append((table, key, item, stored_item(backend, table, key)))
        call()
        parts: list[Part] = []
        for table, key, item, old in targets:
            new = stored_item(backend, table, key)
            units = write_units(max(item_size(old), item_size(item))) + index_write_units(backend, table, old, new)
            parts.append((_label(table, key), 0.0, units))
        return parts

    def transact_write(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
        targets = []
        for entry in body.get("TransactItems") or []:
            for kind, operation in entry.items():
                table = operation.get("TableName")
                key = key_of(backend, table, operation["Item"]) if kind == "Put" else operation.get("Key")
                size = item_size(operation.get("Item")) if kind == "Put" else 0
                targets.append((table, key, size, stored_item(backend, table, key)))
        call()
        parts: list[Part] = []
        for table, key, size, old in targets:
            new = stored_item(backend, table, key)
            units = write_units(max(size, item_size(old), item_size(new)), transactional=True)
            parts.append((_label(table, key), 0.0, units + index_write_units(backend, table, old, new)))
        return parts

    def transact_get(backend: Any, body: dict[str, Any], call: Callable[[], Any]) -> list[Part]:
        result = call()
        responses = _body(result).get("Responses") or []
        requested: list[dict[str, Any]] = [next(iter(entry.values()), {}) for entry in body.get("TransactItems") or []]
        return [
            (
                _label(asked.get("TableName"), asked.get("Key")),
                read_units(item_size(response.get("Item")), True, transactional=True),
                0.0,
            )
            for asked, response in zip(requested, responses, strict=False)
        ]

    handler.put_item = metered(handler.put_item, single_write("Item"))
    handler.update_item = metered(handler.update_item, single_write("Key"))
    handler.delete_item = metered(handler.delete_item, single_write("Key"))
    handler.get_item = metered(handler.get_item, get)
    handler.query = metered(handler.query, query)
    handler.scan = metered(handler.scan, query)
    handler.batch_get_item = metered(handler.batch_get_item, batch_get)
    handler.batch_write_item = metered(handler.batch_write_item, batch_write)
    handler.transact_write_items = metered(handler.transact_write_items, transact_write)
    handler.transact_get_items = metered(handler.transact_get_items, transact_get)
