"""DynamoDB's isolation for moto: per-item locks, and transactions that conflict instead of waiting.

moto's DynamoDB is not atomic under concurrency (conditional writes lose updates). DynamoDB is
atomic per item, so the runner gives each item its own lock, keyed by table and primary key:

- A single-item write (PutItem, UpdateItem, DeleteItem, each write of a BatchWriteItem) holds its
  item's lock for the whole request, ReturnValues included; another write of the same item
  waits. A write to an item that an in-flight transaction holds fails at once with
  `TransactionConflictException`, as on DynamoDB.
- A read (GetItem, each read of a BatchGetItem) returns the last committed state: it waits while
  a single write, or a transaction's apply phase, is changing its item (a millisecond locally),
  but not for a transaction that merely holds the item while it checks its conditions.
- TransactWriteItems / TransactGetItems take every item they touch without waiting. An item
  held by another transaction or write cancels the whole transaction: `TransactionCanceledException`
  whose reason for that item is `TransactionConflict` ("None" for the others).
- Query and Scan iterate moto's item dictionaries, so they exclude the table's item operations
  while they run (a reader/writer gate per table, writer preference: scans don't starve); PartiQL
  takes every table's gate. Stream shards have their own lock, held by a transaction while it
  applies its writes, so a stream reader never sees records of a transaction that is undone.

Nothing waits while holding an item lock except a transaction about to apply its writes, for
the readers of its items to leave (readers never wait while holding), and gates are taken before item locks, in table
order: no deadlock. Everything is re-entrant per thread (a moto request runs on one thread), so
the backend calls a locked request makes re-enter its own locks. Service code never takes these.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

ItemId = tuple[str, Any, Any]  # (table ARN, hash key, range key) as moto's DynamoTypes

CONFLICT_MESSAGE = "Transaction is ongoing for the item"
TRANSACTION = "transaction"
WRITE = "write"


def conflict_error() -> Exception:
    from moto.dynamodb.exceptions import DynamodbException

    return DynamodbException("com.amazonaws.dynamodb.v20120810#TransactionConflictException", message=CONFLICT_MESSAGE)


@dataclass
class _Item:
    writer: int | None = None  # thread ident
    kind: str = WRITE  # WRITE or TRANSACTION
    depth: int = 0
    readers: dict[int, int] = field(default_factory=dict)
    waiting: int = 0  # an entry somebody waits on must stay (a new one would be a second lock)
    applying: bool = False  # a transaction is writing it: readers wait

    def idle(self) -> bool:
        return self.writer is None and not self.readers and not self.waiting


@dataclass
class _Gate:
    """Item operations share a table; scans (and PartiQL) have it to themselves."""

    shared: dict[int, int] = field(default_factory=dict)
    exclusive: int | None = None
    exclusive_depth: int = 0
    exclusive_waiting: int = 0


class Locks:
    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._items: dict[ItemId, _Item] = {}
        self._gates: dict[str, _Gate] = {}
        self._shards_lock = threading.Lock()
        self.conflicts = 0  # requests refused because another one held an item, since start

    def wait_for_conflicts(self, count: int, timeout: float) -> bool:
        """Waits until `count` requests in all have been refused for a conflict (tests, benchmarks)."""
        with self._changed:
            return self._changed.wait_for(lambda: self.conflicts >= count, timeout=timeout)

    def _conflict(self) -> None:
        self.conflicts += 1
        self._changed.notify_all()

    # -- table gates -------------------------------------------------------------------------

    @contextlib.contextmanager
    def tables(self, names: Iterable[str], *, exclusive: bool = False) -> Iterator[None]:
        """Item operations (shared) or a scan (exclusive) on these tables, entered in name order."""
        me = threading.get_ident()
        entered: list[_Gate] = []
        try:
            for name in sorted(set(names)):
                with self._changed:
                    gate = self._gates.setdefault(name, _Gate())
                    self._enter(gate, me, exclusive)
                entered.append(gate)
            yield
        finally:
            with self._changed:
                for gate in entered:
                    self._leave(gate, me)
                self._changed.notify_all()

    def _enter(self, gate: _Gate, me: int, exclusive: bool) -> None:
        if gate.exclusive == me:
            gate.exclusive_depth += 1
            return
        if me in gate.shared and not exclusive:
            gate.shared[me] += 1
            return
        if exclusive:
            gate.exclusive_waiting += 1
            try:
                self._changed.wait_for(lambda: gate.exclusive is None and not set(gate.shared) - {me})
            finally:
                gate.exclusive_waiting -= 1
            gate.exclusive, gate.exclusive_depth = me, 1
        else:
            self._changed.wait_for(lambda: gate.exclusive is None and not gate.exclusive_waiting)
            gate.shared[me] = 1

    @staticmethod
    def _leave(gate: _Gate, me: int) -> None:
        if gate.exclusive == me:
            gate.exclusive_depth -= 1
            if gate.exclusive_depth == 0:
                gate.exclusive = None
        elif me in gate.shared:
            gate.shared[me] -= 1
            if gate.shared[me] == 0:
                del gate.shared[me]

    # -- single items ------------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self, item: ItemId) -> Iterator[None]:
        """One item's write: waits for other writes and readers; an in-flight transaction is a conflict."""
        me = threading.get_ident()
        with self._changed:
            state = self._items.setdefault(item, _Item())

            def free() -> bool:
                if state.writer not in (None, me) and state.kind == TRANSACTION:
                    self._conflict()
                    raise conflict_error()
                return state.writer in (None, me) and not set(state.readers) - {me}

            state.waiting += 1
            try:
                self._changed.wait_for(free)
            except BaseException:
                state.waiting -= 1
                if state.idle():  # a conflict: leave nothing behind
                    self._items.pop(item, None)
                raise
            state.waiting -= 1
            if state.writer is None:
                state.writer, state.kind = me, WRITE
            state.depth += 1
        try:
            yield
        finally:
            self._release([item], me)

    @contextlib.contextmanager
    def read(self, item: ItemId) -> Iterator[None]:
        """One item's read: waits while someone else writes it (it sees committed state only)."""
        me = threading.get_ident()
        with self._changed:
            state = self._items.setdefault(item, _Item())
            state.waiting += 1
            try:
                self._changed.wait_for(
                    lambda: state.writer in (None, me) or (state.kind == TRANSACTION and not state.applying)
                )
            finally:
                state.waiting -= 1
            state.readers[me] = state.readers.get(me, 0) + 1
        try:
            yield
        finally:
            self._release([item], me, reader=True)

    # -- transactions ------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, items: list[ItemId | None], *, write: bool = True) -> Iterator[list[int]]:
        """Takes every item at once, without waiting for another writer or transaction.

        Yields the indexes of the items someone else holds (then nothing is taken: the caller
        cancels the transaction), or [] with every item held until the block ends. Readers
        still get through until a write transaction starts `applying`.
        """
        me = threading.get_ident()
        wanted = [(index, item) for index, item in enumerate(items) if item is not None]
        with self._changed:
            conflicts = [index for index, item in wanted if self._held_by_other_writer(item, me)]
            if conflicts:
                self._conflict()
                taken: list[ItemId] = []
            else:
                taken = [item for _, item in wanted]
                for item in taken:
                    state = self._items.setdefault(item, _Item())
                    if write:
                        if state.writer is None:
                            state.writer, state.kind = me, TRANSACTION
                        state.depth += 1
                    else:
                        state.readers[me] = state.readers.get(me, 0) + 1
        try:
            yield conflicts
        finally:
            if taken:
                self._release(taken, me, reader=not write)

    @contextlib.contextmanager
    def applying(self, items: list[ItemId | None]) -> Iterator[None]:
        """A write transaction's apply phase on items it holds: waits for their readers, stops new ones."""
        me = threading.get_ident()
        with self._changed:
            states = [self._items[item] for item in items if item is not None]
            for state in states:
                state.applying = True
            self._changed.wait_for(lambda: all(not set(state.readers) - {me} for state in states))
        try:
            yield
        finally:
            with self._changed:
                for state in states:
                    state.applying = False
                self._changed.notify_all()

    def _held_by_other_writer(self, item: ItemId, me: int) -> bool:
        state = self._items.get(item)
        return state is not None and state.writer not in (None, me)

    def holder(self, item: ItemId) -> str | None:
        """WRITE or TRANSACTION when a writer holds the item (for tests and diagnostics)."""
        with self._changed:
            state = self._items.get(item)
            return state.kind if state is not None and state.writer is not None else None

    def _release(self, items: list[ItemId], me: int, *, reader: bool = False) -> None:
        with self._changed:
            for item in items:
                state = self._items[item]
                if reader:
                    state.readers[me] -= 1
                    if state.readers[me] == 0:
                        del state.readers[me]
                elif state.writer == me:
                    state.depth -= 1
                    if state.depth == 0:
                        state.writer = None
                if state.idle():
                    self._items.pop(item, None)
            self._changed.notify_all()

    # -- stream shards -----------------------------------------------------------------------

    def shard(self, shard: Any) -> threading.RLock:
        """The lock of one stream shard: appends, reads, and a transaction's apply phase."""
        lock = getattr(shard, "_local_lock", None)
        if lock is None:
            with self._shards_lock:
                lock = getattr(shard, "_local_lock", None)
                if lock is None:
                    lock = shard._local_lock = threading.RLock()
        return lock


LOCKS = Locks()


def item_id(table: Any, key: dict[str, Any]) -> ItemId | None:
    """The lock key of an item of a moto Table, from its key (or whole item) in request form."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        hash((hash_key, range_key))
    except Exception:  # malformed: moto's own validation answers the request
        return None
    return (table.table_arn, hash_key, range_key)


def cancelled(count: int, conflicts: list[int]) -> Exception:
    """DynamoDB's answer to a transaction that met another one: one reason per action."""
    from moto.dynamodb.exceptions import TransactionCanceledException

    conflict = ("TransactionConflict", CONFLICT_MESSAGE, None)
    return TransactionCanceledException([conflict if i in conflicts else (None, None, None) for i in range(count)])
