"""The compensating steps: refund, void, fail; each answers a final payment with its final status."""

from __future__ import annotations

from dataclasses import replace

from payments.data.provider import (
    CaptureInfo,
    PaymentProviderRejected,
)
from payments.domain.errors import PaymentContention
from payments.domain.models import (
    FINAL_STATES,
    FailureReason,
    Payment,
    PaymentOutcome,
    PaymentState,
)
from payments.logic.common import (
    _MONEY_HELD,
    _PASSES,
    SERVICE,
    PaymentSteps,
    _key,
)
from payments.observability import logger
from shared import faults
from shared.events import Flow, PaymentRefunded


class Compensation(PaymentSteps):
    # --- refund, void, fail ----------------------------------------------------------------

    @faults.injectable(SERVICE, "refund")
    def refund(self, order_id: str, correlation_id: str, flow: Flow) -> PaymentOutcome:
        """Give a capture back, once, including a capture whose answer was lost (the record still
        says AUTHORIZED but the provider captured). Nothing captured -> NOTHING_TO_DO."""
        for _ in range(_PASSES):
            payment = self.repository.get(order_id)
            if payment is None or payment.state in (PaymentState.VOIDED, PaymentState.DECLINED, PaymentState.FAILED):
                return PaymentOutcome("NOTHING_TO_DO")
            if payment.state in _MONEY_HELD:
                return self._refund(payment, correlation_id, flow)
            lost = self.provider.find_capture(_key("capture", order_id))
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
            refunded = self._refunded(payment, payment.capture_id, payment.captured_cents)
            if self.repository.transition(PaymentState.CAPTURED, refunded):
                logger.info("payment refunded", extra={"refund_id": refunded.refund_id})
                payment = refunded
            else:
                payment = self._require(payment.order_id)
                if payment.refund_id != refunded.refund_id:
                    raise PaymentContention(payment.order_id)
        return self._announce_refunded(payment, correlation_id, flow, replayed=replayed)

    def _refund_lost_capture(self, payment: Payment, capture: CaptureInfo) -> Payment | None:
        """The provider captured an AUTHORIZED payment but the record never heard of it: refund
        the capture and record capture and refund in one conditional write (AUTHORIZED ->
        REFUNDED), so a late capture answer finds REFUNDED and never announces PaymentCompleted.
        Returns the record written, or None if the record moved meanwhile (the caller re-reads)."""
        refunded = self._refunded(payment, capture.capture_id, capture.amount_cents)
        if not self.repository.transition(PaymentState.AUTHORIZED, refunded):
            return None
        logger.warning(
            "refunded a capture whose answer was lost",
            extra={"capture_id": capture.capture_id, "refund_id": refunded.refund_id},
        )
        return refunded

    def _refunded(self, payment: Payment, capture_id: str, amount_cents: int) -> Payment:
        """Give back ``amount_cents`` of the capture (key ``refund:<order_id>``, so a retry refunds
        once): the payment as REFUNDED, its capture noted (the record may never have heard of it)."""
        refund_id = self.provider.refund(capture_id, amount_cents, idempotency_key=_key("refund", payment.order_id))
        now = self.clock()
        return replace(
            payment,
            state=PaymentState.REFUNDED,
            capture_id=capture_id,
            captured_cents=amount_cents,
            captured_at=payment.captured_at or now,
            refund_id=refund_id,
            refunded_cents=amount_cents,
            refunded_at=now,
            updated_at=now,
        )

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
            payment = self.repository.get(order_id)
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
        now = self.clock()
        marker = Payment(
            order_id=order_id, state=PaymentState.VOIDED, authorization_id=released, created_at=now, updated_at=now
        )
        if not self.repository.create(marker):
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
        lost = self.provider.find_capture(capture_key)
        if lost is None:
            try:
                self.provider.void(payment.authorization_id)
            except PaymentProviderRejected:
                # captured between the look-up and the void: refund that capture instead
                lost = self.provider.find_capture(capture_key)
                if lost is None:
                    raise
        if lost is not None:
            return self._refund_lost_capture(payment, lost)
        voided = replace(payment, state=PaymentState.VOIDED, updated_at=self.clock())
        if not self.repository.transition(PaymentState.AUTHORIZED, voided):
            return None
        logger.info("authorization voided", extra={"authorization_id": payment.authorization_id})
        return voided

    @faults.injectable(SERVICE, "fail")
    def fail(self, order_id: str, reason: FailureReason, correlation_id: str, flow: Flow) -> PaymentOutcome:
        """The workflow gave up on this payment: leave nothing held and announce PaymentFailed."""
        # Each pass moves the record one step (settle a hold or a lost capture, refund a
        # capture, record the failure); a lost race re-reads.
        for _ in range(_PASSES):
            payment = self.repository.get(order_id)
            now = self.clock()
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
                if self.repository.create(failed):
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
            elif self.repository.transition(
                payment.state, replace(payment, reason=reason, failed_at=now, updated_at=now)
            ):
                # VOIDED or REFUNDED: nothing is held any more; remember that and when it failed
                return self._announce_failed(replace(payment, reason=reason, failed_at=now), correlation_id, flow)
        raise PaymentContention(order_id)
