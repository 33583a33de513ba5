"""The chaos run's recovery: redrive every DLQ, fire the reconciler until every order is decided."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from ops.checker.model import TERMINAL
from ops.checker.reading import scan
from ops.clients import Clients, local_session
from ops.redrive import redrive
from ops.resources import ORDERS_TABLE, Resources
from ops.topology import DEAD_LETTER_QUEUES

RECONCILE_RULE = "OrdersReconcileSchedule"
# Past every order's deadline: the choreography's 30 minutes (the saga's lease is 4.5).
RECONCILE_AHEAD = timedelta(minutes=31)


def recover(cloud: Any, console: Console, rounds: int = 6, skip: tuple[str, ...] = ()) -> Counter[str]:
    """Faults off, drain, redrive every DLQ (but `skip`) until nothing is left anywhere."""
    clients = Clients.from_session(local_session(cloud.region), endpoint_url=cloud.endpoint_url)
    resources = resources_of(cloud)
    names = [name for name in DEAD_LETTER_QUEUES if name not in skip]
    moved: Counter[str] = Counter()
    for round_number in range(1, rounds + 1):
        cloud.wait_idle(timeout=300)
        results = redrive(clients, resources, names)
        waiting = {name: r.waiting for name, r in results.items() if r.waiting}
        for name, result in results.items():
            moved[name] += result.moved
        console.print(f"recovery round {round_number}: redriven {waiting or 'nothing'}")
        if not waiting:
            break
    cloud.wait_idle(timeout=300)
    return moved


def undecided_orders(cloud: Any) -> list[str]:
    """The orders whose status is not a decision yet."""
    table = resources_of(cloud).table(ORDERS_TABLE)
    return [str(o["order_id"]) for o in scan(cloud.client("dynamodb"), table) if o.get("status") not in TERMINAL]


def settle(cloud: Any, console: Console, rounds: int = 5) -> tuple[Counter[str], int, int]:
    """Recover, then fire the reconciler past every deadline (at least once) until no order is undecided.

    Parked saga inputs wait for the reconciler: an undecided order's parked saga still holds its
    lease (its deadline), so redriving it now is refused, and a refused message stays hidden for
    the redrive's visibility timeout. Once the reconciler has decided the order, the redrive re-runs
    the saga, which finds the decision and only finishes the compensation.

    Returns what was redriven, the reconciler runs fired, and the orders left undecided.
    """
    moved = recover(cloud, console, skip=("saga",))
    fired = 0
    undecided = undecided_orders(cloud)
    for _ in range(rounds):
        at = datetime.now(UTC) + RECONCILE_AHEAD
        cloud.scheduler.fire(RECONCILE_RULE, at=at)
        fired += 1
        cloud.wait_idle(timeout=300)
        moved += recover(cloud, console, rounds=3)
        left = undecided_orders(cloud)
        console.print(
            f"reconciler fired at {at:%H:%M:%S} UTC (now + {RECONCILE_AHEAD.seconds // 60} min): "
            f"{len(undecided)} undecided before, {len(left)} after"
        )
        undecided = left
        if not undecided:
            break
    return moved, fired, len(undecided)


def resources_of(cloud: Any) -> Any:
    return Resources.from_dict({logical: r.physical_id for logical, r in cloud.resources.items()})
