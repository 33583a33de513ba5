"""The reconciler: no order stays undecided. Run on a schedule (every minute).

An order still undecided past its deadline (a saga that timed out, was aborted or parked its
input; a choreographed order whose events are stuck) is rejected by a conditional write that
also requires the deadline to have passed, so an order some execution still holds, or that
was decided meanwhile, is left alone. Compensation follows the flow: the OrderRejected the
outbox relay publishes drives the choreographed consumers; an orchestrated order gets a
compensation run of the saga, which finds the order REJECTED and only refunds, voids and
releases (every step idempotent, so it does not matter if another run does the same).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from orders.data.orders_repository import OrdersRepository
from orders.data.saga import SagaStarter
from orders.domain.models import UNDECIDED_SHARDS, StatusChange, iso, utc_now
from orders.logic.place_order import saga_input
from orders.logic.status import advance
from orders.observability import logger
from shared.faults import injectable

REASON = "DECISION_TIMEOUT"
# Orders per shard per run; a backlog drains over the following runs.
BATCH = 50


@dataclass
class Reconciliation:
    rejected: list[str] = field(default_factory=list)
    compensating: list[str] = field(default_factory=list)
    decided_meanwhile: list[str] = field(default_factory=list)


class Reconciler:
    def __init__(self, *, orders: OrdersRepository, saga: SagaStarter, clock: Callable[[], datetime] = utc_now) -> None:
        self._orders = orders
        self._saga = saga
        self._clock = clock

    @injectable("orders", "reconcile")
    def run(self, now: datetime | None = None) -> Reconciliation:
        moment = now or self._clock()
        cutoff = iso(moment)
        outcome = Reconciliation()
        for shard in range(UNDECIDED_SHARDS):
            for order in self._orders.overdue(f"PENDING#{shard}", cutoff, BATCH):
                change = StatusChange(status="REJECTED", reason=REASON)
                transition = advance(self._orders, order.order_id, change, lambda: moment, overdue_before=cutoff)
                if not transition.applied and transition.order.status != "REJECTED":
                    outcome.decided_meanwhile.append(order.order_id)
                    continue
                if transition.applied:
                    outcome.rejected.append(order.order_id)
                    logger.warning(
                        "undecided order rejected past its deadline",
                        extra={"order_id": order.order_id, "flow": order.flow, "deadline": order.deadline},
                    )
                if order.flow == "orchestrated":
                    # Rejected, now or by an earlier run that could not start the compensation:
                    # the order leaves the index only once its compensation run has started.
                    self._saga.start(f"{order.order_id}-reconcile-{moment:%Y%m%dT%H%M%S}", saga_input(order))
                    outcome.compensating.append(order.order_id)
                self._orders.settle(order.order_id)
        return outcome
