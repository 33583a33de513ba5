"""Holding one DynamoDB item of the local cloud from a test, the way a request in progress holds it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from local.dynamodb_locks import LOCKS, TRANSACTION, ItemId, item_id
from tests.support.events import ACCOUNT


@dataclass(frozen=True)
class Held:
    item: ItemId
    release: threading.Event  # set() lets go before the block ends


@contextmanager
def item_held(
    cloud: Any, table: str, key: dict[str, Any], how: str = TRANSACTION, seconds: float = 60
) -> Iterator[Held]:
    """The item with `key` in `table` is taken on another thread, by a (pretend) write or transaction (`how`:
    WRITE or TRANSACTION), until the block ends, `release` is set, or `seconds` pass. The cloud's moto
    server runs in this process, so its locks are the test's."""
    from moto.dynamodb.models import dynamodb_backends

    item = item_id(dynamodb_backends[ACCOUNT][cloud.region].get_table(table), key)
    assert item is not None
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        if how == TRANSACTION:
            with LOCKS.transaction([item]) as conflicts:
                assert conflicts == []
                taken.set()
                release.wait(timeout=seconds)
        else:
            with LOCKS.write(item):
                taken.set()
                release.wait(timeout=seconds)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(timeout=10)
    try:
        assert LOCKS.holder(item) == how
        yield Held(item, release)
    finally:
        release.set()
        holder.join(timeout=10)
