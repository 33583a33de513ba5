"""The only place the orders service's adapters and use cases are built.

Once per cold start (``@dependency``); ``shared.dependencies.reset()`` forgets them. Each function
loads only its own settings, so a function never needs another one's variables. Each factory
imports its own adapters and use case, so a function imports only what it builds (boto3 and
Powertools' idempotency arrive with the first adapter, not with the handler module).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from orders.config import (
    ApiSettings,
    ProjectorSettings,
    ReconcilerSettings,
    RelaySettings,
    SagaTasksSettings,
    TimelineSettings,
)
from shared.config import load
from shared.dependencies import dependency

if TYPE_CHECKING:
    from orders.data.orders_repository import OrdersRepository
    from orders.data.saga import SagaStarter
    from orders.data.timeline_repository import TimelineRepository
    from orders.logic.place_order import OrderPlacement
    from orders.logic.projection import StatusProjection
    from orders.logic.queries import OrderQueries
    from orders.logic.reconcile import Reconciler
    from orders.logic.relay import OutboxRelay
    from orders.logic.saga_tasks import SagaTasks
    from orders.logic.timeline import TimelineRecorder


class _OrdersTable(Protocol):
    @property
    def orders_table(self) -> str: ...


class _TimelineTable(Protocol):
    @property
    def order_events_table(self) -> str: ...


def _orders(settings: _OrdersTable) -> OrdersRepository:
    from orders.data.orders_repository import DynamoDBOrdersRepository

    return DynamoDBOrdersRepository(settings.orders_table)


def _timeline(settings: _TimelineTable) -> TimelineRepository:
    from orders.data.timeline_repository import DynamoDBTimelineRepository

    return DynamoDBTimelineRepository(settings.order_events_table)


def build_placement(settings: ApiSettings, saga: SagaStarter | None = None) -> OrderPlacement:
    from orders.data.catalog import DynamoDBCatalog
    from orders.data.idempotency import idempotency_store
    from orders.data.saga import StepFunctionsSaga
    from orders.logic.place_order import OrderPlacement
    from shared.payment_ref import KmsPaymentRefs

    return OrderPlacement(
        orders=_orders(settings),
        catalog=DynamoDBCatalog(settings.inventory_table),
        saga=saga or StepFunctionsSaga(settings.saga_state_machine_arn, settings.saga_timeout_seconds),
        idempotency_store=idempotency_store(settings.idempotency_table),
        idempotency_ttl_seconds=settings.idempotency_ttl_seconds,
        payment_refs=KmsPaymentRefs(settings.payment_ref_key_id),
        saga_lease=timedelta(seconds=settings.saga_lease_seconds),
        choreography_deadline=timedelta(seconds=settings.choreography_deadline_seconds),
    )


@dependency
def placement() -> OrderPlacement:
    return build_placement(load(ApiSettings))


@dependency
def queries() -> OrderQueries:
    from orders.logic.queries import OrderQueries

    settings = load(ApiSettings)
    return OrderQueries(orders=_orders(settings), timeline=_timeline(settings))


@dependency
def saga_tasks() -> SagaTasks:
    from orders.logic.saga_tasks import SagaTasks

    return SagaTasks(orders=_orders(load(SagaTasksSettings)))


@dependency
def projection() -> StatusProjection:
    from orders.logic.projection import StatusProjection

    return StatusProjection(orders=_orders(load(ProjectorSettings)))


@dependency
def relay() -> OutboxRelay:
    from orders.data.event_bus import EventBridgeBus
    from orders.logic.relay import OutboxRelay

    return OutboxRelay(bus=EventBridgeBus(load(RelaySettings).event_bus_name))


@dependency
def recorder() -> TimelineRecorder:
    from orders.logic.timeline import TimelineRecorder

    return TimelineRecorder(timeline=_timeline(load(TimelineSettings)))


@dependency
def reconciler() -> Reconciler:
    from orders.data.saga import StepFunctionsSaga
    from orders.logic.reconcile import Reconciler

    settings = load(ReconcilerSettings)
    return Reconciler(
        orders=_orders(settings),
        saga=StepFunctionsSaga(settings.saga_state_machine_arn, timeout_seconds=10),
    )
