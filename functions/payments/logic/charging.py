"""The forward steps: tax, authorize, charge, capture, settle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from payments.data.provider import (
    CardDeclined,
    PaymentProviderRejected,
)
from payments.domain.errors import ChargeDeadlineExceeded, InvalidPaymentState, PaymentContention
from payments.domain.models import (
    FINAL_STATES,
    ChargeOutcome,
    Payment,
    PaymentOutcome,
    PaymentState,
    TaxOutcome,
)
from payments.domain.tax import tax_cents
from payments.logic.common import (
    SERVICE,
    PaymentSteps,
    _final_outcome,
    _key,
)
from payments.observability import logger
from shared import faults
from shared.events import Flow, PaymentCompleted, PaymentFailed


class Charging(PaymentSteps):
    # --- tax -----------------------------------------------------------------------------

    @faults.injectable(SERVICE, "calculate_tax")
    def calculate_tax(self, order_id: str, amount_cents: int) -> TaxOutcome:
        """The tax on the order amount: pure (no record needed, nothing written), so it runs
        before authorize and a retry gets the same answer as long as the rate is unchanged."""
        return TaxOutcome(tax_cents(amount_cents, self.tax_rate_bps))

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
        stored = self.repository.get(order_id)
        if stored is not None:
            return self._authorize_replay(stored, correlation_id, flow)
        now = self.clock()
        try:
            token = self._open(order_id, payment_ref)
            authorization_id = self.provider.authorize(_key("authorize", order_id), token, amount_cents + tax_cents)
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
            if not self.repository.create(payment):
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
        if not self.repository.create(payment):
            stored = self._require(order_id)
            if stored.authorization_id != authorization_id:
                # the order was decided otherwise meanwhile (voided, failed): release our hold
                self.provider.void(authorization_id)
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
        payment = self.repository.get(order_id)
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
            capture_id = self.provider.capture(
                payment.authorization_id, total, idempotency_key=_key("capture", payment.order_id)
            )
        except PaymentProviderRejected:
            # voided by compensation meanwhile: answer what the payment is now
            stored = self._require(payment.order_id)
            if stored.state is PaymentState.AUTHORIZED:
                raise
            return stored, False
        now = self.clock()
        captured = replace(
            payment,
            state=PaymentState.CAPTURED,
            capture_id=capture_id,
            captured_cents=total,
            updated_at=now,
            captured_at=now,
        )
        if self.repository.transition(PaymentState.AUTHORIZED, captured):
            logger.info("payment captured", extra={"capture_id": capture_id, "captured_cents": total})
            return captured, True
        # a twin recorded the same capture, or compensation found it and gave it back (REFUNDED)
        stored = self._require(payment.order_id)
        if stored.capture_id != capture_id:
            raise PaymentContention(payment.order_id)
        return stored, False
