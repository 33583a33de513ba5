"""What every payments step shares: the record's helpers, the publisher, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime
from typing import Protocol

from payments.data.provider import (
    CardDeclined,
    PaymentProvider,
    PaymentProviderUnavailable,
)
from payments.data.repository import PaymentRepository
from payments.domain.errors import InvalidPaymentState, PaymentNotFound
from payments.domain.models import (
    FailureReason,
    Payment,
    PaymentOutcome,
    PaymentState,
)
from payments.observability import logger
from shared.events import EventData, Flow, PaymentFailed, new_event
from shared.payment_ref import InvalidPaymentRef, PaymentRefUnavailable
from shared.publisher import EventSink

SERVICE = "payments"
_MAX_ATTEMPTS = 3
# A step moves the record at most three times (settle a hold or a capture, refund, note the
# failure); a lost race costs one more read. Beyond this the record keeps changing: contention.
_PASSES = _MAX_ATTEMPTS + 2
_MONEY_HELD = (PaymentState.CAPTURED, PaymentState.REFUNDED)


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


@dataclass(eq=False)
class PaymentSteps:
    """The state and helpers both halves of Payments use (charging.py, compensation.py)."""

    repository: PaymentRepository
    provider: PaymentProvider
    publisher: EventSink
    tax_rate_bps: int
    clock: Callable[[], str] = utc_now
    _: KW_ONLY
    # Only the functions that authorize can open payment references (and hold kms:Decrypt).
    payment_refs: PaymentRefOpener | None = None

    def _release_unrecorded_authorization(self, order_id: str) -> str | None:
        """Void the provider's hold under ``authorize:<order_id>`` that no record names (its
        answer was lost before the PAY# record was written); returns its id, if there is one."""
        found = self.provider.find_authorization(_key("authorize", order_id))
        if found is None:
            return None
        if found.state == "AUTHORIZED":
            self.provider.void(found.authorization_id)
            logger.warning(
                "voided an authorization whose answer was lost", extra={"authorization_id": found.authorization_id}
            )
        return found.authorization_id

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
        if self.payment_refs is None:
            raise RuntimeError("this function cannot open payment references (no PAYMENT_REF_KEY_ID)")
        try:
            return self.payment_refs.open(order_id, payment_ref)
        except InvalidPaymentRef as invalid:
            logger.warning("payment reference refused", extra={"error": str(invalid)})
            raise CardDeclined(code=INVALID_PAYMENT_REF) from None
        except PaymentRefUnavailable as unavailable:
            raise PaymentProviderUnavailable(str(unavailable)) from None

    def _require(self, order_id: str) -> Payment:
        payment = self.repository.get(order_id)
        if payment is None:
            raise PaymentNotFound(order_id)
        return payment

    def _publish(self, data: EventData, correlation_id: str, flow: Flow, at: str | None) -> None:
        """Announce a fact at the time it happened, so re-announcements are identical."""
        time = datetime.fromisoformat(at) if at else None
        self.publisher.publish([new_event(data, correlation_id=correlation_id, flow=flow, time=time)])
