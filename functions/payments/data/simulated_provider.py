"""The built-in simulated card processor: a card processor's test mode, deterministic across invocations.

Test tokens (as in the architecture contract):

- ``tok_visa`` authorizes;
- ``tok_chargeDeclined`` is declined (``card_declined``);
- ``tok_transient`` fails transiently on the first two attempts per idempotency key, then authorizes;
- ``tok_unavailable`` always fails transiently;
- any other token is declined as invalid (``invalid_token``).

It keeps its own ledger (``SIM#...`` items in the payments table, behind ``SimulatorLedger``)
and enforces what a processor enforces: capture at most once and never above the authorized
amount (the authorization already holds the tax), refunds never above what was captured, and
an idempotency key replays its first answer. ``find_authorization`` / ``find_capture`` retrieve
what was done under an idempotency key (ids are derived from the key, so a look-up is one read).
"""

from __future__ import annotations

import hashlib
from typing import Final

from payments.data.ledger import SimAuthorization, SimCapture, SimRefund, SimulatorLedger
from payments.data.provider import (
    AuthorizationInfo,
    CaptureInfo,
    CardDeclined,
    PaymentProvider,
    PaymentProviderRejected,
    PaymentProviderUnavailable,
)
from shared import faults

TRANSIENT_FAILURES: Final = 2

_APPROVE, _DECLINE, _TRANSIENT, _UNAVAILABLE = "approve", "decline", "transient", "unavailable"
TEST_TOKENS: Final = {
    "tok_visa": _APPROVE,
    "tok_chargeDeclined": _DECLINE,
    "tok_transient": _TRANSIENT,
    "tok_unavailable": _UNAVAILABLE,
}
# After losing a conditional write, one re-read sees the winner's state and decides.
_ATTEMPTS: Final = 2


def derive_id(prefix: str, idempotency_key: str) -> str:
    """Ids follow from the idempotency key, so a retried request finds its own earlier result."""
    return f"{prefix}_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"


class SimulatedCardProcessor(PaymentProvider):
    def __init__(self, ledger: SimulatorLedger) -> None:
        self._ledger = ledger

    # The processor's own calls are operations of the fault document too ("payments.processor_*"):
    # a processor that charged and then lost its answer is what compensation must find and undo.
    @faults.injectable("payments", "processor_authorize")
    def authorize(self, idempotency_key: str, token: str, amount_cents: int) -> str:
        if amount_cents <= 0:
            raise PaymentProviderRejected("amount must be positive")
        authorization_id = derive_id("auth", idempotency_key)
        existing = self._ledger.get_authorization(authorization_id)
        if existing is not None:
            if existing.amount_cents != amount_cents:
                raise PaymentProviderRejected("idempotency key reused with a different amount")
            return authorization_id
        behaviour = TEST_TOKENS.get(token)
        if behaviour is None:
            raise CardDeclined(code="invalid_token")
        if behaviour == _DECLINE:
            raise CardDeclined(code="card_declined")
        if behaviour == _UNAVAILABLE:
            raise PaymentProviderUnavailable("processor unavailable")
        if behaviour == _TRANSIENT and self._ledger.count_attempt(idempotency_key) <= TRANSIENT_FAILURES:
            raise PaymentProviderUnavailable("processor timed out")
        # False means a concurrent twin with the same key stored the same authorization first
        self._ledger.create_authorization(
            SimAuthorization(
                authorization_id=authorization_id,
                amount_cents=amount_cents,
                state="AUTHORIZED",
            )
        )
        return authorization_id

    @faults.injectable("payments", "processor_capture")
    def capture(self, authorization_id: str, amount_cents: int, *, idempotency_key: str) -> str:
        capture_id = derive_id("cap", idempotency_key)
        for _ in range(_ATTEMPTS):
            authorization = self._authorization(authorization_id)
            if authorization.state == "CAPTURED":
                if authorization.capture_id != capture_id:
                    raise PaymentProviderRejected("authorization already captured")
                capture = self._ledger.get_capture(capture_id)
                if capture is None or capture.amount_cents != amount_cents:
                    raise PaymentProviderRejected("idempotency key reused with a different amount")
                return capture_id
            if authorization.state == "VOIDED":
                raise PaymentProviderRejected("authorization was voided")
            if not 0 < amount_cents <= authorization.amount_cents:
                raise PaymentProviderRejected("capture amount exceeds the authorization")
            capture = SimCapture(capture_id=capture_id, authorization_id=authorization_id, amount_cents=amount_cents)
            if self._ledger.record_capture(capture):
                return capture_id
        raise PaymentProviderUnavailable("ledger contention")

    def refund(self, capture_id: str, amount_cents: int, *, idempotency_key: str) -> str:
        refund_id = derive_id("ref", idempotency_key)
        for _ in range(_ATTEMPTS):
            # the capture first, then the key: a twin's refund that lands in between is then
            # seen as this key's replay rather than as "nothing left to refund"
            capture = self._ledger.get_capture(capture_id)
            existing = self._ledger.get_refund(refund_id)
            if existing is not None:
                if (existing.capture_id, existing.amount_cents) != (capture_id, amount_cents):
                    raise PaymentProviderRejected("idempotency key reused with a different refund")
                return refund_id
            if capture is None:
                raise PaymentProviderRejected("unknown capture")
            if not 0 < amount_cents <= capture.amount_cents - capture.refunded_cents:
                raise PaymentProviderRejected("refund exceeds what remains captured")
            refund = SimRefund(refund_id=refund_id, capture_id=capture_id, amount_cents=amount_cents)
            if self._ledger.record_refund(refund, refunded_at_most=capture.amount_cents - amount_cents):
                return refund_id
        raise PaymentProviderUnavailable("ledger contention")

    def void(self, authorization_id: str) -> None:
        for _ in range(_ATTEMPTS):
            authorization = self._authorization(authorization_id)
            if authorization.state == "VOIDED":
                return
            if authorization.state == "CAPTURED":
                raise PaymentProviderRejected("a captured authorization cannot be voided; refund it")
            if self._ledger.record_void(authorization_id):
                return
        raise PaymentProviderUnavailable("ledger contention")

    def find_authorization(self, idempotency_key: str) -> AuthorizationInfo | None:
        authorization = self._ledger.get_authorization(derive_id("auth", idempotency_key))
        if authorization is None:
            return None
        return AuthorizationInfo(authorization.authorization_id, authorization.amount_cents, authorization.state)

    def find_capture(self, idempotency_key: str) -> CaptureInfo | None:
        return self._ledger.get_capture(derive_id("cap", idempotency_key))

    def _authorization(self, authorization_id: str) -> SimAuthorization:
        authorization = self._ledger.get_authorization(authorization_id)
        if authorization is None:
            raise PaymentProviderRejected("unknown authorization")
        return authorization
