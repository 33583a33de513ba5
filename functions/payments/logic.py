"""Payments business logic: the steps of the saga and of the payment workflow.

Each step reads the order's PAY# record and moves it forward with a conditional write:
AUTHORIZED -> CAPTURED -> REFUNDED, AUTHORIZED -> VOIDED, or DECLINED / FAILED. A retried
step finds the record already moved, returns the result it produced the first time and
re-announces its event (the event id is deterministic). The provider is called with
idempotency keys derived from the order, so a retry after a lost response never charges twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from payments.data.repository import PaymentRepository, WorkflowStarter
from payments.domain.errors import InvalidPaymentState, PaymentAmountMismatch, PaymentContention, PaymentNotFound
from payments.domain.models import FailureReason, Payment, PaymentOutcome, PaymentState, TaxOutcome, WorkflowRequest
from payments.domain.tax import tax_cents
from payments.observability import logger
from payments.providers.base import CardDeclined, PaymentProvider
from shared import faults
from shared.events import Envelope, EventData, Flow, PaymentCompleted, PaymentFailed, PaymentRefunded, new_event

SERVICE = "payments"
_MAX_ATTEMPTS = 3
_MONEY_HELD = (PaymentState.CAPTURED, PaymentState.REFUNDED)


class EventSink(Protocol):
    """What logic needs from shared.publisher.EventPublisher (tests inject a fake)."""

    def publish(self, events: Iterable[Envelope]) -> None: ...


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


def _key(operation: str, order_id: str) -> str:
    return f"{operation}:{order_id}"


class Payments:
    def __init__(
        self,
        repository: PaymentRepository,
        provider: PaymentProvider,
        publisher: EventSink,
        tax_rate_bps: int,
        clock: Callable[[], str] = utc_now,
    ) -> None:
        self._repository = repository
        self._provider = provider
        self._publisher = publisher
        self._tax_rate_bps = tax_rate_bps
        self._clock = clock

    # --- authorize -----------------------------------------------------------------------

    @faults.injectable(SERVICE, "authorize")
    def authorize(
        self, order_id: str, amount_cents: int, payment_token: str, correlation_id: str, flow: Flow
    ) -> PaymentOutcome:
        """Hold the amount on the card. A decline is a result; PaymentProviderUnavailable raises."""
        stored = self._repository.get(order_id)
        if stored is not None:
            return self._authorize_replay(stored, correlation_id, flow)
        now = self._clock()
        try:
            authorization_id = self._provider.authorize(_key("authorize", order_id), payment_token, amount_cents)
        except CardDeclined as declined:
            payment = Payment(
                order_id=order_id,
                state=PaymentState.DECLINED,
                amount_cents=amount_cents,
                reason="PAYMENT_DECLINED",
                decline_code=declined.code,
                created_at=now,
                updated_at=now,
            )
            if not self._repository.create(payment):
                return self._authorize_replay(self._require(order_id), correlation_id, flow)
            logger.info("payment declined", extra={"decline_code": declined.code})
            self._publish(PaymentFailed(order_id=order_id, reason="PAYMENT_DECLINED"), correlation_id, flow, now)
            return PaymentOutcome("DECLINED", {"reason": "PAYMENT_DECLINED"})
        payment = Payment(
            order_id=order_id,
            state=PaymentState.AUTHORIZED,
            amount_cents=amount_cents,
            authorization_id=authorization_id,
            created_at=now,
            updated_at=now,
        )
        if not self._repository.create(payment):
            stored = self._require(order_id)
            if stored.authorization_id != authorization_id:
                # the order was decided otherwise meanwhile (failed, declined): release our hold
                self._provider.void(authorization_id)
            return self._authorize_replay(stored, correlation_id, flow)
        logger.info("payment authorized", extra={"authorization_id": authorization_id})
        return PaymentOutcome("AUTHORIZED", {"authorization_id": authorization_id})

    def _authorize_replay(self, payment: Payment, correlation_id: str, flow: Flow) -> PaymentOutcome:
        if payment.state is PaymentState.DECLINED:
            self._publish(
                PaymentFailed(order_id=payment.order_id, reason="PAYMENT_DECLINED"),
                correlation_id,
                flow,
                payment.created_at,
            )
            return PaymentOutcome("DECLINED", {"reason": "PAYMENT_DECLINED"}, replayed=True)
        if payment.authorization_id is None:
            # FAILED before anything was authorized: never authorize a failed payment later
            return PaymentOutcome("DECLINED", {"reason": payment.reason or "PAYMENT_UNAVAILABLE"}, replayed=True)
        return PaymentOutcome("AUTHORIZED", {"authorization_id": payment.authorization_id}, replayed=True)

    # --- tax -----------------------------------------------------------------------------

    @faults.injectable(SERVICE, "calculate_tax")
    def calculate_tax(self, order_id: str, amount_cents: int) -> TaxOutcome:
        """Compute the tax and remember it on the record, so capture charges amount + tax."""
        for _ in range(_MAX_ATTEMPTS):
            payment = self._require(order_id)
            if payment.amount_cents != amount_cents:
                raise PaymentAmountMismatch(f"tax asked on {amount_cents}, authorized {payment.amount_cents}")
            if payment.tax_cents is not None:
                # first answer wins, even if the rate changed since (a retry must not re-price)
                return TaxOutcome(payment.tax_cents, replayed=True)
            if payment.state is not PaymentState.AUTHORIZED:
                raise InvalidPaymentState(f"no tax for a {payment.state} payment")
            tax = tax_cents(amount_cents, self._tax_rate_bps)
            if self._repository.transition(
                PaymentState.AUTHORIZED, replace(payment, tax_cents=tax, updated_at=self._clock())
            ):
                return TaxOutcome(tax)
        raise PaymentContention(order_id)

    # --- capture -------------------------------------------------------------------------

    @faults.injectable(SERVICE, "capture")
    def capture(self, order_id: str, correlation_id: str, flow: Flow) -> PaymentOutcome:
        """Charge the authorized amount plus tax, once."""
        payment = self._require(order_id)
        replayed = payment.state in _MONEY_HELD
        if not replayed:
            if payment.state is not PaymentState.AUTHORIZED or payment.authorization_id is None:
                raise InvalidPaymentState(f"cannot capture a {payment.state} payment")
            payment = self._capture(payment)
        assert payment.capture_id is not None and payment.amount_cents is not None and payment.tax_cents is not None
        self._publish(
            PaymentCompleted(
                order_id=order_id,
                amount_cents=payment.amount_cents,
                tax_cents=payment.tax_cents,
                capture_id=payment.capture_id,
            ),
            correlation_id,
            flow,
            payment.captured_at,
        )
        return PaymentOutcome(
            "CAPTURED",
            {
                "capture_id": payment.capture_id,
                "amount_cents": payment.amount_cents,
                "tax_cents": payment.tax_cents,
                "captured_cents": payment.captured_cents,
            },
            replayed=replayed,
        )

    def _capture(self, payment: Payment) -> Payment:
        assert payment.amount_cents is not None and payment.authorization_id is not None
        tax = (
            payment.tax_cents if payment.tax_cents is not None else tax_cents(payment.amount_cents, self._tax_rate_bps)
        )
        total = payment.amount_cents + tax
        capture_id = self._provider.capture(
            payment.authorization_id, total, idempotency_key=_key("capture", payment.order_id)
        )
        now = self._clock()
        captured = replace(
            payment,
            state=PaymentState.CAPTURED,
            tax_cents=tax,
            capture_id=capture_id,
            captured_cents=total,
            updated_at=now,
            captured_at=now,
        )
        if self._repository.transition(PaymentState.AUTHORIZED, captured):
            logger.info("payment captured", extra={"capture_id": capture_id, "captured_cents": total})
            return captured
        stored = self._require(payment.order_id)
        if stored.capture_id != capture_id:
            raise PaymentContention(payment.order_id)
        return stored

    # --- refund, void, fail ----------------------------------------------------------------

    @faults.injectable(SERVICE, "refund")
    def refund(self, order_id: str, correlation_id: str, flow: Flow) -> PaymentOutcome:
        """Give a capture back, once. Nothing captured -> NOTHING_TO_DO."""
        payment = self._repository.get(order_id)
        if payment is None or payment.state not in _MONEY_HELD:
            return PaymentOutcome("NOTHING_TO_DO")
        return self._refund(payment, correlation_id, flow)

    def _refund(self, payment: Payment, correlation_id: str, flow: Flow) -> PaymentOutcome:
        replayed = payment.state is PaymentState.REFUNDED
        if not replayed:
            assert payment.capture_id is not None and payment.captured_cents is not None
            refund_id = self._provider.refund(
                payment.capture_id, payment.captured_cents, idempotency_key=_key("refund", payment.order_id)
            )
            now = self._clock()
            refunded = replace(
                payment,
                state=PaymentState.REFUNDED,
                refund_id=refund_id,
                refunded_cents=payment.captured_cents,
                updated_at=now,
                refunded_at=now,
            )
            if self._repository.transition(PaymentState.CAPTURED, refunded):
                logger.info("payment refunded", extra={"refund_id": refund_id})
                payment = refunded
            else:
                payment = self._require(payment.order_id)
                if payment.refund_id != refund_id:
                    raise PaymentContention(payment.order_id)
        assert payment.refund_id is not None and payment.refunded_cents is not None
        self._publish(
            PaymentRefunded(
                order_id=payment.order_id, amount_cents=payment.refunded_cents, refund_id=payment.refund_id
            ),
            correlation_id,
            flow,
            payment.refunded_at,
        )
        return PaymentOutcome("REFUNDED", replayed=replayed)

    @faults.injectable(SERVICE, "void")
    def void(self, order_id: str, correlation_id: str, flow: Flow, *, tombstone: bool = True) -> PaymentOutcome:
        """Undo whatever the payment holds: void an authorization; a capture cannot be voided,
        so it is refunded (a capture whose response was lost still ends with no net charge).

        `tombstone`: with no payment yet, leave a VOIDED marker so that an authorize attempt
        still in flight (the saga's compensation can overtake a timed-out task) releases its
        hold. The choreographed OrderRejected path has no such attempt and passes False.
        """
        for _ in range(_MAX_ATTEMPTS):
            payment = self._repository.get(order_id)
            if payment is None and not tombstone:
                return PaymentOutcome("NOTHING_TO_DO")
            if payment is None:
                # Nothing authorized yet, but an authorize attempt the saga gave up on may still
                # be running: a VOIDED tombstone makes it release its hold instead of keeping it.
                now = self._clock()
                marker = Payment(order_id=order_id, state=PaymentState.VOIDED, created_at=now, updated_at=now)
                if self._repository.create(marker):
                    return PaymentOutcome("NOTHING_TO_DO")
                continue
            if payment.state in (PaymentState.DECLINED, PaymentState.FAILED):
                return PaymentOutcome("NOTHING_TO_DO")
            if payment.state is PaymentState.VOIDED:
                return PaymentOutcome("VOIDED", replayed=True)
            if payment.state in _MONEY_HELD:
                return self._refund(payment, correlation_id, flow)
            if self._void(payment):
                return PaymentOutcome("VOIDED")
        raise PaymentContention(order_id)

    def _void(self, payment: Payment) -> bool:
        assert payment.authorization_id is not None
        self._provider.void(payment.authorization_id)
        voided = replace(payment, state=PaymentState.VOIDED, updated_at=self._clock())
        if self._repository.transition(PaymentState.AUTHORIZED, voided):
            logger.info("authorization voided", extra={"authorization_id": payment.authorization_id})
            return True
        return False

    @faults.injectable(SERVICE, "fail")
    def fail(self, order_id: str, reason: FailureReason, correlation_id: str, flow: Flow) -> PaymentOutcome:
        """The workflow gave up on this payment: leave nothing held and announce PaymentFailed."""
        # Each pass moves the record one step (void a hold, refund a capture, record the
        # failure); a lost race re-reads. At most three steps are ever needed.
        for _ in range(_MAX_ATTEMPTS + 2):
            payment = self._repository.get(order_id)
            now = self._clock()
            if payment is None:
                failed = Payment(
                    order_id=order_id,
                    state=PaymentState.FAILED,
                    reason=reason,
                    created_at=now,
                    updated_at=now,
                    failed_at=now,
                )
                if self._repository.create(failed):
                    return self._announce_failed(failed, correlation_id, flow, replayed=False)
            elif payment.state is PaymentState.AUTHORIZED:
                self._void(payment)
            elif payment.state is PaymentState.CAPTURED:
                self._refund(payment, correlation_id, flow)
            elif payment.state in (PaymentState.DECLINED, PaymentState.FAILED):
                # already announced by the decision itself: repeat exactly that event
                return self._announce_failed(payment, correlation_id, flow, replayed=True)
            elif payment.failed_at is not None:
                return self._announce_failed(payment, correlation_id, flow, replayed=True)
            elif self._repository.transition(
                payment.state, replace(payment, reason=reason, failed_at=now, updated_at=now)
            ):
                # VOIDED or REFUNDED: nothing is held any more; remember that and when it failed
                return self._announce_failed(replace(payment, reason=reason, failed_at=now), correlation_id, flow)
        raise PaymentContention(order_id)

    def _announce_failed(
        self, payment: Payment, correlation_id: str, flow: Flow, *, replayed: bool = False
    ) -> PaymentOutcome:
        reason: FailureReason = payment.reason or "PAYMENT_UNAVAILABLE"
        self._publish(
            PaymentFailed(order_id=payment.order_id, reason=reason),
            correlation_id,
            flow,
            payment.failed_at or payment.created_at,
        )
        return PaymentOutcome("FAILED", replayed=replayed)

    # --- helpers -------------------------------------------------------------------------

    def _require(self, order_id: str) -> Payment:
        payment = self._repository.get(order_id)
        if payment is None:
            raise PaymentNotFound(order_id)
        return payment

    def _publish(self, data: EventData, correlation_id: str, flow: Flow, at: str | None) -> None:
        """Announce a fact at the time it happened, so re-announcements are identical."""
        time = datetime.fromisoformat(at) if at else None
        self._publisher.publish([new_event(data, correlation_id=correlation_id, flow=flow, time=time)])


class PaymentWorkflow:
    """Starts the payments bounded context's own workflow for a choreographed order."""

    def __init__(self, starter: WorkflowStarter) -> None:
        self._starter = starter

    @faults.injectable(SERVICE, "start_workflow")
    def start(self, request: WorkflowRequest) -> bool:
        """True if this call started it; False if it was already started (a redelivered event)."""
        started = self._starter.start(request.order_id, request.execution_input())
        logger.info("payment workflow started" if started else "payment workflow already started")
        return started
