"""The payment provider port.

Logic talks to a card processor only through ``PaymentProvider``. ``SimulatedCardProcessor``
implements it in test mode; a real adapter (Stripe PaymentIntents with manual capture, Adyen
authorise/capture/refund/cancel, ...) would implement the same four calls, pass our
idempotency keys through as the provider's own (Stripe's ``Idempotency-Key`` header, Adyen's
``idempotency-key``), and translate its errors into the exceptions below.

Exception class names are part of the contract: Lambda reports the class name as the
``errorType`` and Step Functions retries on ``PaymentProviderUnavailable`` by that name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class PaymentProviderError(Exception):
    """Base of every provider failure."""


class CardDeclined(PaymentProviderError):
    """The issuer (or the processor) refused the card: a business outcome, never retried."""

    def __init__(self, code: str) -> None:
        super().__init__(f"card declined: {code}")
        self.code = code


class PaymentProviderUnavailable(PaymentProviderError):
    """A transient provider fault (timeout, 5xx, rate limit): safe to retry with the same key."""


class PaymentProviderRejected(PaymentProviderError):
    """The provider refused the request itself (double capture, over-refund, unknown id, ...)."""


class PaymentProvider(ABC):
    @abstractmethod
    def authorize(self, idempotency_key: str, token: str, amount_cents: int) -> str:
        """Place a hold of amount_cents on the card; returns the authorization id.

        Raises CardDeclined or PaymentProviderUnavailable. A repeated key returns the same id.
        """

    @abstractmethod
    def capture(self, authorization_id: str, amount_cents: int, *, idempotency_key: str) -> str:
        """Charge an authorization (at most once); returns the capture id."""

    @abstractmethod
    def refund(self, capture_id: str, amount_cents: int, *, idempotency_key: str) -> str:
        """Give back up to what was captured; returns the refund id."""

    @abstractmethod
    def void(self, authorization_id: str) -> None:
        """Release an uncaptured authorization; voiding a voided one is a no-op."""
