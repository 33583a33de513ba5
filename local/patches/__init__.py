"""What moto 5.2.5 lacks or gets wrong, patched from one place: a module per service (local.patches.*).

Each patch is installed once per process (idempotent) and, where it needs the running local
cloud, asks the active `RuntimeHooks`; with none active moto behaves as it does unpatched.

- DynamoDB isolates requests as the service does (local.dynamodb_locks, installed by
  local.dynamodb_requests): each item has its own lock, so single-item operations are atomic
  per item (moto alone loses updates on conditional writes) while different items proceed in
  parallel. TransactWriteItems / TransactGetItems take all their items without waiting, and an
  item held by another transaction or write cancels them (`TransactionCanceledException`, reason
  `TransactionConflict`); a single-item write to an item held by a transaction gets
  `TransactionConflictException`. Query and Scan have their table to themselves while they run.
  The locks emulate the service; service code never takes them.
- TransactWriteItems checks every condition before writing and never swaps tables (see
  local.dynamodb_transactions: moto's rollback orphans the table's stream shard).
- Lambda invocations run the function's real code in worker processes (local.functions)
  instead of Docker; asynchronous invokes (`InvocationType=Event`) return at once.
- Step Functions gets `StartSyncExecution`, and executions are tracked so the runner knows
  when none is running.
- DynamoDB stream writes wake the runner's stream pollers instead of being polled blindly, and
  a message made visible again wakes SQS long polls (moto only wakes them for new messages).
- AWS's payload size limits are enforced by local.limits (installed from here; Lambda's request
  check sits in the Lambda patch, local.patches.awslambda).
- EventBridge: rule targets moto cannot deliver (Lambda, Step Functions, SNS) go to the runner;
  a DISABLED rule delivers nothing; a schedule-only rule never matches events; events carry
  their `account` field as AWS's do.
"""

from __future__ import annotations

import threading
from typing import Any

from local.patches.state import RuntimeHooks, State

_install_lock = threading.Lock()


def serve_requests_of(app: Any) -> None:
    """Only requests to this moto server (the local cloud's) get the local cloud's behaviour.

    Other moto users in the same process - `mock_aws()` in unit tests, another
    ThreadedMotoServer - keep moto's own behaviour: no state machine execution, no runner
    Lambda, moto's own EventBridge delivery.
    """
    State.server_app = app


def serving_local_request() -> bool:
    """Whether the current thread serves a request to the local cloud's server."""
    return bool(getattr(State.request, "local", False))


def activate(hooks: RuntimeHooks | None) -> None:
    install()
    State.hooks = hooks


def running_executions() -> int:
    return State.running_executions


def install() -> None:
    with _install_lock:
        if State.installed:
            return
        from local.patches import speed, wire

        speed.defer_batch_task_import()
        wire.install()
        from local.patches import awslambda, dynamodb, events, sqs, stepfunctions

        dynamodb.patch_tables()
        dynamodb.patch_streams()
        awslambda.patch()
        stepfunctions.patch()
        events.patch()
        sqs.patch()
        speed.patch()
        from local import events_replay, iam, limits

        events_replay.install()
        limits.install()
        iam.install()
        State.installed = True
