"""DynamoDB request units from item sizes as DynamoDB bills them: writes per 1 KB of the larger of the
item before and after (transactional x2), plus the writes each global secondary index's copy takes,
reads per 4 KB (strongly consistent 1, eventually 0.5, transactional 2)."""

from __future__ import annotations

import base64
import math
from typing import Any


def attribute_size(value: Any) -> int:  # noqa: PLR0911 - one return per DynamoDB type
    """An attribute value's size (DynamoDB JSON) as DynamoDB counts it for capacity."""
    if not isinstance(value, dict) or not value:
        return 0
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(str(inner).encode("utf-8"))
    if kind == "N":
        digits = str(inner).lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        try:
            return len(base64.b64decode(inner)) if isinstance(inner, str) else len(inner)
        except (ValueError, TypeError):
            return len(str(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_size({kind[0]: element}) for element in inner or [])
    if kind == "L":
        return 3 + sum(1 + attribute_size(element) for element in inner or [])
    if kind == "M":
        return 3 + sum(1 + len(k.encode("utf-8")) + attribute_size(v) for k, v in (inner or {}).items())
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in item.items())


def write_units(size: int, transactional: bool = False) -> float:
    return max(1, math.ceil(size / 1024)) * (2 if transactional else 1)


def read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / 4096))
    if transactional:
        return units * 2.0
    return units * (1.0 if consistent else 0.5)


def stored_item(backend: Any, table_name: Any, key: Any) -> dict[str, Any] | None:
    """The item stored under `key` now (DynamoDB JSON), or None."""
    if not isinstance(table_name, str) or not isinstance(key, dict):
        return None
    try:
        item = backend.get_item(table_name, key)
    except Exception:
        return None
    return dict(item.to_json()["Attributes"]) if item is not None else None


def index_write_units(
    backend: Any, table_name: Any, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> float:
    """The write units a change of one item costs in the table's global secondary indexes: nothing when
    the index's copy is unchanged, one write when it changes in place, a delete and a put when its
    key changes (or one of them when the item enters or leaves a sparse index), per 1 KB of the copy."""
    try:
        table = backend.get_table(table_name)
    except Exception:
        return 0.0
    units = 0.0
    for index in getattr(table, "global_indexes", None) or []:
        old, new = _projected(index, table, before), _projected(index, table, after)
        if old == new:
            continue
        keys = [part["AttributeName"] for part in index.schema]
        if old is not None and new is not None and all(old.get(k) == new.get(k) for k in keys):
            units += write_units(max(item_size(old), item_size(new)))
        else:
            units += sum(write_units(item_size(copy)) for copy in (old, new) if copy is not None)
    return units


def _projected(index: Any, table: Any, item: dict[str, Any] | None) -> dict[str, Any] | None:
    """The copy of `item` an index holds (None when the item lacks one of the index's keys)."""
    keys = [part["AttributeName"] for part in index.schema]
    if not item or any(key not in item for key in keys):
        return None
    projection = getattr(index, "projection", None) or {}
    kind = projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return dict(item)
    names = set(keys) | {name for name in (table.hash_key_attr, table.range_key_attr) if name}
    if kind == "INCLUDE":
        names |= set(projection.get("NonKeyAttributes", []))
    return {name: value for name, value in item.items() if name in names}


def key_of(backend: Any, table_name: Any, item: Any) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        return None
    try:
        table = backend.get_table(table_name)
    except Exception:
        return None
    names = [table.hash_key_attr, table.range_key_attr]
    return {name: item[name] for name in names if name and name in item}
