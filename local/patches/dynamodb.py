"""DynamoDB: requests isolated per item (local.dynamodb_requests), all-or-nothing TransactWriteItems,
stream writes that wake the stream pollers.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from local.dynamodb_locks import LOCKS
from local.patches.state import STREAM_ACTIVITY

log = logging.getLogger("local.patches")


def patch_tables() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    from local import dynamodb_requests
    from local.dynamodb_transactions import transact_write_items

    original = DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact(self: Any, transact_items: list[dict[str, Any]]) -> None:
        # the local cloud's requests only: another moto user in this process keeps moto's own
        if dynamodb_requests.serving_local_request():
            return transact_write_items(self, transact_items)
        return original(self, transact_items)

    DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
    dynamodb_requests.install()


def patch_streams() -> None:
    from moto.dynamodb.models.table import StreamShard

    original_add = StreamShard.add

    @functools.wraps(original_add)
    def add(self: Any, old: Any, new: Any) -> None:
        # moto numbers a record by the shard's length: concurrent writers need the shard's lock.
        with LOCKS.shard(self):
            original_add(self, old, new)
        with STREAM_ACTIVITY:
            STREAM_ACTIVITY.notify_all()

    StreamShard.add = add  # type: ignore[method-assign]
