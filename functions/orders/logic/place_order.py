"""Placing an order: price it, then record it (choreographed) or hand it to the saga (orchestrated)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

from orders.data.catalog import Catalog
from orders.data.orders_repository import OrdersRepository
from orders.data.saga import SagaStarter
from orders.domain.errors import (
    FieldProblem,
    IdempotencyConflictError,
    InvalidOrderError,
    OrderConflictError,
    SagaError,
    SagaUnavailableError,
)
from orders.domain.models import TERMINAL, Order, iso, new_order_id, undecided_shard, utc_now
from orders.handlers.models import PlaceOrderRequest
from orders.logic.placed import PlacedOrder
from orders.logic.saga_outcome import interpret_execution
from orders.logic.status import record_new
from orders.observability import logger
from shared.events import OrderLine
from shared.faults import injectable
from shared.payment_ref import fingerprint


class PaymentRefSealer(Protocol):
    """What placing an order needs from shared.payment_ref.KmsPaymentRefs (tests inject a fake)."""

    def seal(self, order_id: str, token: str) -> str: ...


def saga_input(order: Order) -> dict[str, Any]:
    """The orchestrated saga's input (docs/architecture.md); its first step records the order."""
    return {
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "items": [line.model_dump() for line in order.items],
        "total_cents": order.total_cents,
        "payment_ref": order.travelling_ref(),
        "correlation_id": order.correlation_id,
        "flow": "orchestrated",
    }


@dataclass(eq=False, kw_only=True)
class OrderPlacement:
    orders: OrdersRepository
    catalog: Catalog
    saga: SagaStarter
    idempotency_store: InitVar[BasePersistenceLayer]
    idempotency_ttl_seconds: InitVar[int]
    payment_refs: PaymentRefSealer
    saga_lease: timedelta = timedelta(seconds=270)
    choreography_deadline: timedelta = timedelta(minutes=30)
    clock: Callable[[], datetime] = utc_now
    idempotency_config: IdempotencyConfig = field(init=False)

    def __post_init__(self, idempotency_store: BasePersistenceLayer, idempotency_ttl_seconds: int) -> None:
        # The key is the header alone: a reused key with any other body (customer included) is a conflict.
        self.idempotency_config = IdempotencyConfig(
            event_key_jmespath="idempotency_key",
            payload_validation_jmespath="request",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=idempotency_ttl_seconds,
        )
        self._place_once = idempotent_function(
            data_keyword_argument="placement",
            persistence_store=idempotency_store,
            config=self.idempotency_config,
            output_serializer=PydanticSerializer(PlacedOrder),
            key_prefix="orders.place_order",
        )(self._place_keyed)

    @injectable("orders", "place_order")
    def place(
        self,
        request: PlaceOrderRequest,
        *,
        correlation_id: str,
        idempotency_key: str | None = None,
        lambda_context: Any | None = None,
    ) -> PlacedOrder:
        if idempotency_key is None:
            order_id = new_order_id(request.customer_id, None)
            return self._place(request, order_id=order_id, correlation_id=correlation_id, keyed=False)
        if lambda_context is not None:
            self.idempotency_config.register_lambda_context(lambda_context)
        # Only `placement` is hashed: the key names the record, the request body validates it.
        placed: PlacedOrder = self._place_once(
            placement={"idempotency_key": idempotency_key, "request": request.canonical()},
            request=request,
            correlation_id=correlation_id,
        )
        if placed.flow == "orchestrated" and placed.status not in TERMINAL:
            # A stored "still deciding" answer: the decision may have been made since.
            stored = self.orders.get(placed.order_id)
            if stored is not None:
                return PlacedOrder.of(stored)
        return placed

    def _place_keyed(
        self, *, placement: dict[str, Any], request: PlaceOrderRequest, correlation_id: str
    ) -> PlacedOrder:
        order_id = new_order_id(request.customer_id, placement["idempotency_key"])
        return self._place(request, order_id=order_id, correlation_id=correlation_id, keyed=True)

    def _place(self, request: PlaceOrderRequest, *, order_id: str, correlation_id: str, keyed: bool) -> PlacedOrder:
        lines = self._price(request)
        moment = self.clock()
        now = iso(moment)
        window = self.saga_lease if request.flow == "orchestrated" else self.choreography_deadline
        # The card token goes no further than this: the order keeps (and passes on) a reference
        # only payments can open, for this order only, and a fingerprint to recognise a retry.
        token = request.payment.token.get_secret_value()
        order = Order(
            order_id=order_id,
            customer_id=request.customer_id,
            flow=request.flow,
            status="PENDING",
            status_rank=0,
            items=lines,
            total_cents=sum(line.quantity * line.unit_price_cents for line in lines),
            payment_ref=self.payment_refs.seal(order_id, token),
            payment_fingerprint=fingerprint(order_id, token),
            correlation_id=correlation_id,
            created_at=now,
            updated_at=now,
            deadline=iso(moment + window),
            undecided=undecided_shard(order_id),
        )
        logger.append_keys(order_id=order_id)
        if keyed:
            # Second guard, for retries that outlive the idempotency record: the id is deterministic.
            existing = self.orders.get(order_id)
            if existing is not None:
                return self._resume(existing, order)
        if order.flow == "choreographed":
            return self._record_choreographed(order)
        return self._start_saga(order)

    def _price(self, request: PlaceOrderRequest) -> list[OrderLine]:
        problems: list[FieldProblem] = []
        first_line: dict[str, int] = {}
        for index, line in enumerate(request.items):
            if line.sku in first_line:
                # Inventory reserves all lines in one transaction, which cannot touch one item twice.
                problems.append(
                    FieldProblem(
                        field=f"items[{index}].sku",
                        type="duplicate_sku",
                        message=f"duplicate sku {line.sku!r} (also items[{first_line[line.sku]}]); "
                        "put its whole quantity on one line",
                    )
                )
            first_line.setdefault(line.sku, index)
        prices = self.catalog.prices(first_line.keys())
        for index, line in enumerate(request.items):
            if line.sku not in prices and first_line[line.sku] == index:
                problems.append(
                    FieldProblem(field=f"items[{index}].sku", type="unknown_sku", message=f"unknown sku {line.sku!r}")
                )
        if problems:
            raise InvalidOrderError(problems)
        return [
            OrderLine(sku=line.sku, quantity=line.quantity, unit_price_cents=prices[line.sku]) for line in request.items
        ]

    def _resume(self, existing: Order, requested: Order) -> PlacedOrder:
        if not existing.same_request(requested):
            raise IdempotencyConflictError("this Idempotency-Key already placed a different order")
        logger.info("idempotent retry of an existing order", extra={"status": existing.status})
        if existing.flow == "choreographed" or existing.is_terminal:
            return PlacedOrder.of(existing)
        # An orchestrated order without a decision: run the saga again only if no execution
        # holds it (one execution per order); its lease ran out, so the last one has ended.
        moment = self.clock()
        until = iso(moment + self.saga_lease)
        if not self.orders.claim(existing.order_id, iso(moment), until):
            logger.info("a saga execution still holds this order: no second one", extra={"until": existing.deadline})
            return PlacedOrder.of(existing)
        # A new execution name: the earlier execution keeps its own (and its history).
        rerun = f"{existing.order_id}-{uuid.uuid4().hex[:8]}"
        return self._run_saga(existing.model_copy(update={"deadline": until}), name=rerun)

    def _record_choreographed(self, order: Order) -> PlacedOrder:
        # One PutItem: the table's stream (the outbox) announces OrderPlaced, never this function.
        existing = record_new(self.orders, order)
        if existing is not None:
            if not existing.same_request(order):
                raise OrderConflictError(f"order id {order.order_id} already holds a different order")
            return PlacedOrder.of(existing)
        logger.info("choreographed order recorded", extra={"total_cents": order.total_cents})
        return PlacedOrder.of(order)

    def _start_saga(self, order: Order) -> PlacedOrder:
        """Record the order holding its saga lease (the API's own write), then run the saga.

        A concurrent request for the same order finds the record and does not start another.
        """
        existing = record_new(self.orders, order)
        if existing is not None:
            return self._resume(existing, order)
        return self._run_saga(order)

    def _run_saga(self, order: Order, name: str | None = None) -> PlacedOrder:
        """The saga's decision, or the order as stored (PENDING: 202) when it outlives our budget."""
        try:
            execution = self.saga.run(name or order.order_id, saga_input(order))
            placed = interpret_execution(execution, order)
        except SagaUnavailableError:
            # Step Functions refused the start, so no execution holds the lease: give it back,
            # so that the caller's retry (same Idempotency-Key) can start one.
            if order.deadline is not None:
                self.orders.release(order.order_id, order.deadline, iso(self.clock()))
            raise
        except SagaError as error:
            # Still running, or ended without a decision (parked for redrive): the order says
            # where it stands, and the reconciler decides it if nothing else does in time.
            logger.warning(
                "order saga gave no decision within the API's budget",
                extra={"execution": error.execution, "saga_status": error.status, "saga_error": error.error},
            )
            stored = self.orders.get(order.order_id)
            return PlacedOrder.of(stored or order)
        logger.info("order saga decided", extra={"status": placed.status, "reason": placed.reason})
        return placed
