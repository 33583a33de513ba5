"""Payments business logic: the steps of the saga and of the payment workflow.

Each step reads the order's PAY# record and moves it forward with a conditional write:
AUTHORIZED -> CAPTURED -> REFUNDED, AUTHORIZED -> VOIDED, AUTHORIZED -> REFUNDED (a lost
capture given back), or DECLINED / FAILED. VOIDED, REFUNDED, DECLINED and FAILED are final:
every step answers a final payment with its final status and never moves it back, whoever
replays it (a saga retry, a redriven workflow, a duplicate event, two runs at once). A retried
step finds the record already moved, returns the result it produced the first time and
re-announces its event (the event id is deterministic). The provider is called with
idempotency keys derived from the order (``authorize:<order_id>``, ``capture:<order_id>``,
``refund:<order_id>``), so a retry after a lost response never charges twice, and
compensation can ask the provider what it did under a key whose answer never reached the
PAY# record.

Step contract (payments-tasks): ``calculate_tax`` is pure and runs first; ``authorize`` holds
amount + tax and stores both; ``capture`` charges exactly what was authorized. ``charge`` runs the
three in one invocation (the saga's and the payment workflow's one payment step): each stays its
own idempotent step, injectable on its own, so a retried charge replays what already landed.

The card token reaches payments only as a payment reference (``shared.payment_ref``): authorize
opens it for its own order just before calling the processor, and nothing else ever sees it. A
reference that does not open for the order is a decline (``invalid_payment_ref``), never a retry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from payments.data.repository import PaymentRepository, WorkflowStarter
from payments.domain.errors import ChargeDeadlineExceeded, InvalidPaymentState, PaymentContention, PaymentNotFound
from payments.domain.models import (
    FINAL_STATES,
    ChargeOutcome,
    FailureReason,
    Payment,
    PaymentOutcome,
    PaymentState,
    TaxOutcome,
    WorkflowRequest,
)
from payments.domain.tax import tax_cents
from payments.observability import logger
from payments.providers.base import (
    CaptureInfo,
    CardDeclined,
    PaymentProvider,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
)
from shared import faults
from shared.events import Envelope, EventData, Flow, PaymentCompleted, PaymentFailed, PaymentRefunded, new_event
from shared.payment_ref import InvalidPaymentRef, PaymentRefUnavailable

SERVICE = "payments"
_MAX_ATTEMPTS = 3
# A step moves the record at most three times (settle a hold or a capture, refund, note the
# failure); a lost race costs one more read. Beyond this the record keeps changing: contention.
_PASSES = _MAX_ATTEMPTS + 2
_MONEY_HELD = (PaymentState.CAPTURED, PaymentState.REFUNDED)


class EventSink(Protocol):
    """What logic needs from shared.publisher.EventPublisher (tests inject a fake)."""

    def publish(self, events: Iterable[Envelope]) -> None: ...


class PaymentRefOpener(Protocol):
    """What authorize needs from shared.payment_ref.KmsPaymentRefs (tests inject a fake)."""

    def open(self, order_id: str, ref: str) -> str: ...


INVALID_PAYMENT_REF = "invalid_payment_ref"


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


def _key(operation: str, order_id: str) -> str:
    return f"{operation}:{order_id}"


def _final_outcome(payment: Payment, *, replayed: bool = True) -> PaymentOutcome:
    """The answer of any step to a payment in a final state: that state, never AUTHORIZED/CAPTURED."""
    if payment.state is PaymentState.DECLINED:
        return PaymentOutcome("DECLINED", {"reason": "PAYMENT_DECLINED"}, replayed=replayed)
    if payment.state is PaymentState.FAILED:
        return PaymentOutcome("FAILED", {"reason": payment.reason or "PAYMENT_UNAVAILABLE"}, replayed=replayed)
    if payment.state is PaymentState.VOIDED:
        return PaymentOutcome("VOIDED", replayed=replayed)
    if payment.state is PaymentState.REFUNDED:
        return PaymentOutcome("REFUNDED", replayed=replayed)
    raise InvalidPaymentState(f"{payment.state} is not final")


class Payments:
    def __init__(
        self,
        repository: PaymentRepository,
        provider: PaymentProvider,
        publisher: EventSink,
        tax_rate_bps: int,
        clock: Callable[[], str] = utc_now,
        *,
        payment_refs: PaymentRefOpener | None = None,
    ) -> None:
        self._repository = repository
        # Only the functions that authorize can open payment references (and hold kms:Decrypt).
        self._payment_refs = payment_refs
        self._provider = provider
        self._publisher = publisher
        self._tax_rate_bps = tax_rate_bps
        self._clock = clock

    # --- tax -----------------------------------------------------------------------------

    @faults.injectable(SERVICE, "calculate_tax")
    def calculate_tax(self, order_id: str, amount_cents: int) -> TaxOutcome:
        """The tax on the order amount: pure (no record needed, nothing written), so it runs
        before authorize and a retry gets the same answer as long as the rate is unchanged."""
        return TaxOutcome(tax_cents(amount_cents, self._tax_rate_bps))

    # --- authorize -----------------------------------------------------------------------

    @faults.injectable(SERVICE, "authorize")
    def authorize(
        self,
        order_id: str,
        amount_cents: int,
        tax_cents: int,
        payment_ref: str,
        correlation_id: str,
        flow: Flow,
    ) -> PaymentOutcome:
        """Hold amount + tax on the card the reference names. A decline is a result (also a
        reference that does not open for this order); PaymentProviderUnavailable raises.

        A payment that exists already answers what it is: AUTHORIZED (also once captured, so a
        redriven workflow goes on to capture's replay), or its final status.
        """
        stored = self._repository.get(order_id)
        if stored is not None:
            return self._authorize_replay(stored, correlation_id, flow)
        now = self._clock()
        try:
            token = self._open(order_id, payment_ref)
            authorization_id = self._provider.authorize(_key("authorize", order_id), token, amount_cents + tax_cents)
        except CardDeclined as declined:
            payment = Payment(
                order_id=order_id,
                state=PaymentState.DECLINED,
                amount_cents=amount_cents,
                tax_cents=tax_cents,
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
            tax_cents=tax_cents,
            authorization_id=authorization_id,
            created_at=now,
            updated_at=now,
        )
        if not self._repository.create(payment):
            stored = self._require(order_id)
            if stored.authorization_id != authorization_id:
                # the order was decided otherwise meanwhile (voided, failed): release our hold
                self._provider.void(authorization_id)
            return self._authorize_replay(stored, correlation_id, flow)
        logger.info("payment authorized", extra={"authorization_id": authorization_id})
        return PaymentOutcome("AUTHORIZED", {"authorization_id": authorization_id})

    def _authorize_replay(self, payment: Payment, correlation_id: str, flow: Flow) -> PaymentOutcome:
        if payment.state in FINAL_STATES:
            if payment.authorization_id is None:
                # decided before any hold was noted: an attempt that died after the provider
                # answered may have left one, which nothing else would ever release
                self._release_unrecorded_authorization(payment.order_id)
            if payment.state in (PaymentState.DECLINED, PaymentState.FAILED):
                # the same PaymentFailed as the decision's (same id and time): nothing new
                self._announce_failed(payment, correlation_id, flow)
            return _final_outcome(payment)
        assert payment.authorization_id is not None
        return PaymentOutcome("AUTHORIZED", {"authorization_id": payment.authorization_id}, replayed=True)

    # --- charge: tax, authorize, capture in one call ---------------------------------------

    @faults.injectable(SERVICE, "charge")
    def charge(
        self,
        order_id: str,
        amount_cents: int,
        payment_ref: str,
        correlation_id: str,
        flow: Flow,
        *,
        capture_by: Callable[[], bool] | None = None,
    ) -> ChargeOutcome:
        """calculate_tax -> authorize -> capture. A decline (or a final payment) stops after
        authorize and is the answer; otherwise the capture's answer (CAPTURED, or a final status).

        ``capture_by`` says whether a capture may still start: an authorize that answered after
        the caller stopped listening (its task timed out) must not be followed by a charge nobody
        awaits, so the step raises ChargeDeadlineExceeded instead (transient: a retry replays the
        stored authorization and captures in time; compensation voids the hold otherwise).
        """
        tax = self.calculate_tax(order_id, amount_cents)
        authorized = self.authorize(order_id, amount_cents, tax.tax_cents, payment_ref, correlation_id, flow)
        if authorized.status != "AUTHORIZED":
            return ChargeOutcome(authorized)
        if capture_by is not None and not capture_by():
            raise ChargeDeadlineExceeded(order_id)
        return ChargeOutcome(authorized, self.capture(order_id, correlation_id, flow))

    # --- capture -------------------------------------------------------------------------

    @faults.injectable(SERVICE, "capture")
    def capture(self, order_id: str, correlation_id: str, flow: Flow) -> PaymentOutcome:
        """Charge exactly what was authorized (amount + tax), once; announce PaymentCompleted.

        A final payment answers its final status and announces nothing: a refunded payment is
        never captured (or reported completed) again.
        """
        payment = self._require(order_id)
        fresh = False
        if payment.state is PaymentState.AUTHORIZED:
            payment, fresh = self._capture(payment)
        if payment.state in FINAL_STATES:
            return _final_outcome(payment)
        return self._completed(payment, correlation_id, flow, replayed=not fresh)

    @faults.injectable(SERVICE, "settle")
    def settle(self, order_id: str, correlation_id: str, flow: Flow) -> PaymentOutcome:
        """After a capture step failed through its retries: did the capture land anyway?

        For the payment workflow the capture is the pivot: once it landed it may have been
        announced and confirmed the order, so the workflow goes forward (CAPTURED, the same
        PaymentCompleted announced again) and only the order's rejection can refund it. Any
        other answer is the stored state; nothing is written.
        """
        payment = self._repository.get(order_id)
        if payment is None:
            return PaymentOutcome("NOTHING_TO_DO")
        if payment.state is PaymentState.CAPTURED:
            return self._completed(payment, correlation_id, flow, replayed=True)
        if payment.state in FINAL_STATES:
            return _final_outcome(payment)
        return PaymentOutcome("AUTHORIZED", {"authorization_id": payment.authorization_id}, replayed=True)

    def _completed(self, payment: Payment, correlation_id: str, flow: Flow, *, replayed: bool) -> PaymentOutcome:
        """Announce a CAPTURED payment's PaymentCompleted (same id and time on every call)."""
        assert payment.capture_id is not None and payment.amount_cents is not None and payment.tax_cents is not None
        self._publish(
            PaymentCompleted(
                order_id=payment.order_id,
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

    def _capture(self, payment: Payment) -> tuple[Payment, bool]:
        """Capture an AUTHORIZED payment; (the record as it now is, whether this call captured)."""
        if payment.amount_cents is None or payment.tax_cents is None or payment.authorization_id is None:
            # authorized before the hold included the tax: charging more than it holds is refused
            raise InvalidPaymentState("the authorization does not hold the tax; void it")
        total = payment.amount_cents + payment.tax_cents
        try:
            capture_id = self._provider.capture(
                payment.authorization_id, total, idempotency_key=_key("capture", payment.order_id)
            )
        except PaymentProviderRejected:
            # voided by compensation meanwhile: answer what the payment is now
            stored = self._require(payment.order_id)
            if stored.state is PaymentState.AUTHORIZED:
                raise
            return stored, False
        now = self._clock()
        captured = replace(
            payment,
            state=PaymentState.CAPTURED,
            capture_id=capture_id,
            captured_cents=total,
            updated_at=now,
            captured_at=now,
        )
        if self._repository.transition(PaymentState.AUTHORIZED, captured):
            logger.info("payment captured", extra={"capture_id": capture_id, "captured_cents": total})
            return captured, True
        # a twin recorded the same capture, or compensation found it and gave it back (REFUNDED)
        stored = self._require(payment.order_id)
        if stored.capture_id != capture_id:
            raise PaymentContention(payment.order_id)
        return stored, False

    # --- refund, void, fail ----------------------------------------------------------------

    @faults.injectable(SERVICE, "refund")
    def refund(self, order_id: str, correlation_id: str, flow: Flow) -> PaymentOutcome:
        """Give a capture back, once, including a capture whose answer was lost (the record still
        says AUTHORIZED but the provider captured). Nothing captured -> NOTHING_TO_DO."""
        for _ in range(_PASSES):
            payment = self._repository.get(order_id)
            if payment is None or payment.state in (PaymentState.VOIDED, PaymentState.DECLINED, PaymentState.FAILED):
                return PaymentOutcome("NOTHING_TO_DO")
            if payment.state in _MONEY_HELD:
                return self._refund(payment, correlation_id, flow)
            lost = self._provider.find_capture(_key("capture", order_id))
            if lost is None:
                return PaymentOutcome("NOTHING_TO_DO")
            refunded = self._refund_lost_capture(payment, lost)
            if refunded is not None:
                return self._announce_refunded(refunded, correlation_id, flow, replayed=False)
        raise PaymentContention(order_id)

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
        return self._announce_refunded(payment, correlation_id, flow, replayed=replayed)

    def _refund_lost_capture(self, payment: Payment, capture: CaptureInfo) -> Payment | None:
        """The provider captured an AUTHORIZED payment but the record never heard of it: refund
        the capture and record capture and refund in one conditional write (AUTHORIZED ->
        REFUNDED), so a late capture answer finds REFUNDED and never announces PaymentCompleted.
        Returns the record written, or None if the record moved meanwhile (the caller re-reads)."""
        refund_id = self._provider.refund(
            capture.capture_id, capture.amount_cents, idempotency_key=_key("refund", payment.order_id)
        )
        now = self._clock()
        refunded = replace(
            payment,
            state=PaymentState.REFUNDED,
            capture_id=capture.capture_id,
            captured_cents=capture.amount_cents,
            captured_at=now,
            refund_id=refund_id,
            refunded_cents=capture.amount_cents,
            refunded_at=now,
            updated_at=now,
        )
        if not self._repository.transition(PaymentState.AUTHORIZED, refunded):
            return None
        logger.warning(
            "refunded a capture whose answer was lost",
            extra={"capture_id": capture.capture_id, "refund_id": refund_id},
        )
        return refunded

    def _announce_refunded(
        self, payment: Payment, correlation_id: str, flow: Flow, *, replayed: bool
    ) -> PaymentOutcome:
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
        so it is refunded (also one whose answer was lost: the provider is asked under
        ``capture:<order_id>``), and an authorization whose answer was lost before any record
        existed is found under ``authorize:<order_id>`` and voided.

        `tombstone`: with no payment yet, leave a VOIDED marker so that an authorize attempt
        still in flight (the saga's compensation can overtake a timed-out task) releases its
        hold. The choreographed OrderRejected path has no such attempt and passes False (a
        marker naming the authorization is still left if a lost one had to be voided).
        """
        for _ in range(_PASSES):
            payment = self._repository.get(order_id)
            if payment is None:
                outcome = self._void_unrecorded(order_id, tombstone=tombstone)
            elif payment.state in FINAL_STATES:
                outcome = self._void_final(payment, correlation_id, flow)
            elif payment.state is PaymentState.CAPTURED:
                outcome = self._refund(payment, correlation_id, flow)
            else:
                settled = self._settle_authorized(payment)
                if settled is None:
                    outcome = None
                elif settled.state is PaymentState.VOIDED:
                    outcome = PaymentOutcome("VOIDED")
                else:
                    outcome = self._announce_refunded(settled, correlation_id, flow, replayed=False)
            if outcome is not None:
                return outcome
        raise PaymentContention(order_id)

    def _void_unrecorded(self, order_id: str, *, tombstone: bool) -> PaymentOutcome | None:
        """Void with no record: release a hold whose answer was lost, and leave a VOIDED marker
        (naming it) that a late authorize attempt will find. None if a record appeared meanwhile."""
        released = self._release_unrecorded_authorization(order_id)
        if released is None and not tombstone:
            return PaymentOutcome("NOTHING_TO_DO")
        now = self._clock()
        marker = Payment(
            order_id=order_id, state=PaymentState.VOIDED, authorization_id=released, created_at=now, updated_at=now
        )
        if not self._repository.create(marker):
            return None
        return PaymentOutcome("VOIDED" if released else "NOTHING_TO_DO")

    def _void_final(self, payment: Payment, correlation_id: str, flow: Flow) -> PaymentOutcome:
        if payment.authorization_id is None:
            # a tombstone (or a failure) that an authorize attempt may have overtaken
            self._release_unrecorded_authorization(payment.order_id)
        if payment.state is PaymentState.VOIDED:
            return PaymentOutcome("VOIDED", replayed=True)
        if payment.state is PaymentState.REFUNDED:
            return self._refund(payment, correlation_id, flow)
        return PaymentOutcome("NOTHING_TO_DO")

    def _settle_authorized(self, payment: Payment) -> Payment | None:
        """Leave nothing held by an AUTHORIZED payment: refund a capture whose answer was lost,
        else void the hold. Returns the record written (REFUNDED or VOIDED), or None if the
        record moved meanwhile (the caller re-reads and goes on from there)."""
        assert payment.authorization_id is not None
        capture_key = _key("capture", payment.order_id)
        lost = self._provider.find_capture(capture_key)
        if lost is None:
            try:
                self._provider.void(payment.authorization_id)
            except PaymentProviderRejected:
                # captured between the look-up and the void: refund that capture instead
                lost = self._provider.find_capture(capture_key)
                if lost is None:
                    raise
        if lost is not None:
            return self._refund_lost_capture(payment, lost)
        voided = replace(payment, state=PaymentState.VOIDED, updated_at=self._clock())
        if not self._repository.transition(PaymentState.AUTHORIZED, voided):
            return None
        logger.info("authorization voided", extra={"authorization_id": payment.authorization_id})
        return voided

    def _release_unrecorded_authorization(self, order_id: str) -> str | None:
        """Void the provider's hold under ``authorize:<order_id>`` that no record names (its
        answer was lost before the PAY# record was written); returns its id, if there is one."""
        found = self._provider.find_authorization(_key("authorize", order_id))
        if found is None:
            return None
        if found.state == "AUTHORIZED":
            self._provider.void(found.authorization_id)
            logger.warning(
                "voided an authorization whose answer was lost", extra={"authorization_id": found.authorization_id}
            )
        return found.authorization_id

    @faults.injectable(SERVICE, "fail")
    def fail(self, order_id: str, reason: FailureReason, correlation_id: str, flow: Flow) -> PaymentOutcome:
        """The workflow gave up on this payment: leave nothing held and announce PaymentFailed."""
        # Each pass moves the record one step (settle a hold or a lost capture, refund a
        # capture, record the failure); a lost race re-reads.
        for _ in range(_PASSES):
            payment = self._repository.get(order_id)
            now = self._clock()
            if payment is None:
                failed = Payment(
                    order_id=order_id,
                    state=PaymentState.FAILED,
                    authorization_id=self._release_unrecorded_authorization(order_id),
                    reason=reason,
                    created_at=now,
                    updated_at=now,
                    failed_at=now,
                )
                if self._repository.create(failed):
                    return self._announce_failed(failed, correlation_id, flow, replayed=False)
                continue
            if payment.state in FINAL_STATES and payment.authorization_id is None:
                self._release_unrecorded_authorization(order_id)
            if payment.state is PaymentState.AUTHORIZED:
                settled = self._settle_authorized(payment)
                if settled is not None and settled.state is PaymentState.REFUNDED:
                    self._announce_refunded(settled, correlation_id, flow, replayed=False)
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

    def _open(self, order_id: str, payment_ref: str) -> str:
        """The card token for this order's authorization: a reference that is not one, or was
        sealed for another order, is declined; KMS being unavailable is retried like the provider."""
        if self._payment_refs is None:
            raise RuntimeError("this function cannot open payment references (no PAYMENT_REF_KEY_ID)")
        try:
            return self._payment_refs.open(order_id, payment_ref)
        except InvalidPaymentRef as invalid:
            logger.warning("payment reference refused", extra={"error": str(invalid)})
            raise CardDeclined(INVALID_PAYMENT_REF) from None
        except PaymentRefUnavailable as unavailable:
            raise PaymentProviderUnavailable(str(unavailable)) from None

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
