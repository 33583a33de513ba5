"""When a local cloud is idle: nothing in flight, no execution running, every mapped queue and stream drained."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping

from local import patches
from local.functions import FunctionPool
from local.mappings import Activity
from local.mappings_sqs import SqsPoller
from local.mappings_streams import StreamPoller

log = logging.getLogger("local.cloud")

IDLE_POLL_SECONDS = 0.05
IDLE_SETTLE_SECONDS = 0.02


def shard_end(account_id: str, region: str, table_name: str) -> int:
    """The sequence number after the last record of the table's stream shard (0: none, or gone)."""
    from moto.dynamodb.models import dynamodb_backends

    try:
        table = dynamodb_backends[account_id][region].get_table(table_name)
    except Exception:  # gone (moto reset by someone else's mock_aws): nothing to drain
        return 0
    shard = table.stream_shard
    return 0 if shard is None else shard.starting_sequence_number + len(shard.items)


def busy_reasons(
    functions: Mapping[str, FunctionPool],
    pollers: Iterable[SqsPoller | StreamPoller],
    pending_async: int,
    mapped_queues: Iterable[str],
    *,
    account_id: str,
    region: str,
) -> list[str]:
    """Why the cloud is not idle right now (empty when it is)."""
    from moto.sqs.models import sqs_backends

    reasons = [f"{name}: {pool.in_flight} invocation(s)" for name, pool in functions.items() if pool.in_flight]
    if pending_async:
        reasons.append(f"{pending_async} asynchronous invocation(s) or rule deliveries")
    running = patches.running_executions()
    if running:
        reasons.append(f"{running} state machine execution(s) running")
    reasons += [f"{poller.describe()}: batch in progress or records pending" for poller in pollers if poller.busy]
    backend = sqs_backends[account_id][region]
    for name in mapped_queues:
        try:
            queue = backend.get_queue(name)
        except Exception as error:  # gone (moto reset by someone else's mock_aws)
            log.debug("queue %s not checked: %s", name, error)
            continue
        waiting = (
            queue.approximate_number_of_messages
            + queue.approximate_number_of_messages_not_visible
            + queue.approximate_number_of_messages_delayed
        )
        if waiting:
            reasons.append(f"queue {name}: {waiting} message(s)")
    return reasons


def wait_until_idle(activity: Activity, busy: Callable[[], list[str]], timeout: float) -> None:
    """Returns once `busy()` is empty across two observations with no activity in between.

    Waits on the runner's activity signal (no fixed sleeps). Raises TimeoutError saying what is
    still busy.
    """
    deadline = time.monotonic() + timeout
    quiet_generation: int | None = None
    while True:
        generation = activity.generation
        reasons = busy()
        quiet = not reasons and activity.generation == generation
        if quiet and quiet_generation == generation:
            return
        quiet_generation = generation if quiet else None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"local cloud not idle after {timeout} s: {'; '.join(reasons) or 'activity'}")
        activity.wait(generation, min(remaining, IDLE_SETTLE_SECONDS if quiet else IDLE_POLL_SECONDS))
