"""Inventory business logic: set and adjust stock, reserve an order's lines, release them.

Both the saga task and the SQS consumer call ``reserve_stock``/``release_stock``, so an
order's outcome is decided once and announced the same way whichever path it is on.
Every decision is stored in the order's RES# item before it is announced; a retry finds
the item, returns the same result and re-announces it (the event id is deterministic).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, datetime

from inventory.data.repository import InventoryRepository
from inventory.domain.errors import (
    AdjustmentOutOfRange,
    AdjustmentRecorded,
    IdempotencyKeyReused,
    InsufficientStock,
    InventoryError,
    ReservationExists,
    ReservationNotActive,
    SkuNotFound,
    StockChanged,
    StockContention,
)
from inventory.domain.models import (
    MAX_AVAILABLE,
    Adjustment,
    AdjustmentOutcome,
    AdjustmentRecord,
    Precondition,
    ReleaseOutcome,
    Reservation,
    ReservationOutcome,
    ReservationRequest,
    ReservationState,
    StockItem,
    merge_lines,
)
from inventory.observability import logger
from shared import faults
from shared.events import (
    Flow,
    InventoryRejected,
    InventoryReleased,
    InventoryReserved,
    new_event,
)
from shared.publisher import EventSink

SERVICE = "inventory"
# Reserve and release race only on the RES# item; after losing a race the winner's item is
# there to read, so a handful of attempts always converges.
_MAX_ATTEMPTS = 3
# An adjustment is a compare-and-set of the stock item; reservations moving units between
# available and reserved make it read again. Past this many attempts: 503, retry with the key.
_MAX_ADJUST_ATTEMPTS = 6


Clock = Callable[[], str]


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


class ReservationContention(InventoryError):
    """The RES# item kept changing under us; technical and retryable."""


class Inventory:
    def __init__(self, repository: InventoryRepository, publisher: EventSink | None = None, clock: Clock = utc_now):
        self._repository = repository
        self._publisher = publisher
        self._clock = clock

    # --- stock -------------------------------------------------------------------------

    @faults.injectable(SERVICE, "set_stock")
    def set_stock(
        self, sku: str, available: int, price_cents: int, precondition: Precondition | None = None
    ) -> StockItem:
        """Create or overwrite available and price; PreconditionFailed if If-Match/If-None-Match fail."""
        item = self._repository.set_stock(sku, available, price_cents, precondition)
        logger.info(
            "stock set",
            extra={"sku": sku, "available": item.available, "reserved": item.reserved, "version": item.version},
        )
        return item

    @faults.injectable(SERVICE, "adjust_stock")
    def adjust_stock(self, adjustment: Adjustment) -> AdjustmentOutcome:
        """Add ``delta`` to available once per (sku, key); a retry returns the first result.

        Each attempt reads the item and writes the result conditionally on that read, in one
        transaction with the ADJ# record, so the adjustment is applied at most once and the
        record holds exactly the item it produced. A refusal (404, 409) records nothing.
        """
        request_hash = adjustment.request_hash()
        for attempt in range(_MAX_ADJUST_ATTEMPTS):
            recorded = self._repository.get_adjustment(adjustment.sku, adjustment.key)
            if recorded is not None:
                if recorded.request_hash != request_hash:
                    raise IdempotencyKeyReused(sku=adjustment.sku)
                logger.info("adjustment replayed", extra={"sku": adjustment.sku, "version": recorded.result.version})
                return AdjustmentOutcome(item=recorded.result, replayed=True)
            current = self._repository.get_stock(adjustment.sku)
            if current is None:
                raise SkuNotFound(sku=adjustment.sku)
            available = current.available + adjustment.delta
            if not 0 <= available <= MAX_AVAILABLE:
                raise AdjustmentOutOfRange(adjustment.sku, current.available, adjustment.delta, MAX_AVAILABLE)
            result = replace(
                current, available=available, stocked=available + current.reserved, version=current.version + 1
            )
            record = AdjustmentRecord(
                **asdict(adjustment), request_hash=request_hash, result=result, created_at=self._clock()
            )
            try:
                self._repository.apply_adjustment(record, current)
            except AdjustmentRecorded:
                continue  # a concurrent request with this key won: the next read finds its record
            except StockChanged:
                time.sleep(random.uniform(0, 0.01 * 2**attempt))  # jitter, then read again
                continue
            logger.info(
                "stock adjusted",
                extra={
                    "sku": adjustment.sku,
                    "delta": adjustment.delta,
                    "available": available,
                    "version": result.version,
                },
            )
            return AdjustmentOutcome(item=result)
        raise StockContention(adjustment.sku)

    @faults.injectable(SERVICE, "get_stock")
    def get_stock(self, sku: str) -> StockItem:
        item = self._repository.get_stock(sku)
        if item is None:
            raise SkuNotFound(sku=sku)
        return item

    # --- reservations ------------------------------------------------------------------

    @faults.injectable(SERVICE, "reserve")
    def reserve_stock(self, request: ReservationRequest) -> ReservationOutcome:
        """Reserve every line of the order, or none; the first decision for an order is final."""
        reservation = self._repository.get_reservation(request.order_id)
        replayed = reservation is not None
        if reservation is None:
            reservation, replayed = self._decide(request)
        outcome = _outcome(reservation, replayed)
        self._announce_reservation(request, reservation, outcome)
        logger.info(
            "reservation decided" if not replayed else "reservation replayed",
            extra={"status": outcome.status, "reason": outcome.reason, "sku": outcome.sku},
        )
        return outcome

    def _decide(self, request: ReservationRequest) -> tuple[Reservation, bool]:
        now = self._clock()
        candidate = Reservation(
            order_id=request.order_id,
            state=ReservationState.RESERVED,
            lines=request.items,
            total_cents=request.total_cents,
            customer_id=request.customer_id,
            created_at=now,
            updated_at=now,
        )
        try:
            self._repository.create_reservation(candidate, merge_lines(request.items))
            return candidate, False
        except ReservationExists:
            return self._stored(request.order_id), True
        except InsufficientStock as short:
            # Recorded so a duplicate OrderPlaced or a saga retry gets the same answer even
            # after a restock: the order has been (or is being) rejected, and a late success
            # would hold stock for an order nobody will confirm or release.
            rejected = candidate.rejected("OUT_OF_STOCK" if short.known else "UNKNOWN_SKU", short.sku)
            if self._repository.record_decision(rejected):
                return rejected, False
            return self._stored(request.order_id), True

    def _stored(self, order_id: str) -> Reservation:
        reservation = self._repository.get_reservation(order_id)
        if reservation is None:  # a conditional write failed, so it exists unless deleted meanwhile
            raise ReservationContention(order_id)
        return reservation

    def _announce_reservation(
        self, request: ReservationRequest, reservation: Reservation, outcome: ReservationOutcome
    ) -> None:
        if reservation.state is ReservationState.RELEASED and reservation.stock_returned:
            # Reserved, then released: the order's latest inventory fact is InventoryReleased.
            # A duplicate OrderPlaced re-announces that (same id and time), never a new
            # InventoryRejected that would contradict the InventoryReserved before it.
            self._announce_release(reservation, request.correlation_id, request.flow)
            return
        # the time of the decision, so a re-announcement is identical to the first announcement
        at = reservation.updated_at if reservation.state is ReservationState.RELEASED else reservation.created_at
        if outcome.status == "RESERVED":
            data: InventoryReserved | InventoryRejected = InventoryReserved(
                order_id=request.order_id,
                customer_id=reservation.customer_id or request.customer_id,
                items=list(reservation.lines),
                total_cents=reservation.total_cents,
                # event-carried state for payments (an opaque reference); kept out of our table
                payment_ref=request.payment_ref,
            )
        else:
            data = InventoryRejected(
                order_id=request.order_id, reason=outcome.reason or "OUT_OF_STOCK", sku=outcome.sku
            )
        self._publish(data, request.correlation_id, request.flow, at)

    @faults.injectable(SERVICE, "release")
    def release_stock(self, order_id: str, correlation_id: str, flow: Flow) -> ReleaseOutcome:
        """Give an order's reserved units back, once. Without a reservation, leave a tombstone."""
        for _ in range(_MAX_ATTEMPTS):
            reservation = self._repository.get_reservation(order_id)
            if reservation is None:
                # A tombstone makes a late or redelivered reserve answer ALREADY_RELEASED.
                if self._repository.record_decision(Reservation.tombstone(order_id, self._clock())):
                    logger.info("release before reserve: tombstone recorded")
                    return ReleaseOutcome(stock_moved=False)
                continue
            if reservation.state is ReservationState.RESERVED:
                now = self._clock()
                try:
                    self._repository.release_reservation(reservation, merge_lines(reservation.lines), now)
                except ReservationNotActive:
                    continue
                self._announce_release(replace(reservation, updated_at=now), correlation_id, flow)
                logger.info("reservation released", extra={"lines": len(reservation.lines)})
                return ReleaseOutcome(stock_moved=True, lines=reservation.lines)
            if reservation.state is ReservationState.RELEASED and reservation.stock_returned:
                self._announce_release(reservation, correlation_id, flow)
                return ReleaseOutcome(stock_moved=True, replayed=True, lines=reservation.lines)
            # REJECTED, or a tombstone: nothing was ever held
            return ReleaseOutcome(stock_moved=False, replayed=True)
        raise ReservationContention(order_id)

    def _announce_release(self, reservation: Reservation, correlation_id: str, flow: Flow) -> None:
        self._publish(
            InventoryReleased(order_id=reservation.order_id, items=list(reservation.lines)),
            correlation_id,
            flow,
            reservation.updated_at,  # when the stock went back
        )

    def _publish(
        self,
        data: InventoryReserved | InventoryRejected | InventoryReleased,
        correlation_id: str,
        flow: Flow,
        at: str | None,
    ) -> None:
        if self._publisher is None:
            raise RuntimeError("this Inventory was built without a publisher")
        time = datetime.fromisoformat(at) if at else None
        self._publisher.publish([new_event(data, correlation_id=correlation_id, flow=flow, time=time)])


def _outcome(reservation: Reservation, replayed: bool) -> ReservationOutcome:
    if reservation.state is ReservationState.RESERVED:
        return ReservationOutcome(status="RESERVED", total_cents=reservation.total_cents, replayed=replayed)
    if reservation.state is ReservationState.REJECTED:
        return ReservationOutcome(
            status="REJECTED", reason=reservation.reason or "OUT_OF_STOCK", sku=reservation.sku, replayed=replayed
        )
    # RELEASED (a tombstone, or released after a reservation): this order holds no stock now
    return ReservationOutcome(status="REJECTED", reason="ALREADY_RELEASED", replayed=replayed)
