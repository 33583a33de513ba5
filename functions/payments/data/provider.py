"""The payment provider port.

Logic talks to a card processor only through ``PaymentProvider``. ``SimulatedCardProcessor``
implements it in test mode; a real adapter (Stripe PaymentIntents with manual capture, Adyen
authorise/capture/refund/cancel, ...) would implement the same calls, pass our idempotency
keys through as the provider's own (Stripe's ``Idempotency-Key`` header, Adyen's
``idempotency-key``), and translate its errors into the exceptions below.

The two look-ups (``find_authorization``, ``find_capture``) retrieve what the provider did
under one of our idempotency keys, as real processors let you retrieve an object by your own
reference (Stripe: search by metadata / the idempotent replay; Adyen: ``merchantReference``).
Compensation uses them to find an authorization or a capture whose answer was lost before the
PAY# record could note it, so that no hold and no charge is ever left behind.

Exception class names are part of the contract: Lambda reports the class name as the
``errorType`` and Step Functions retries on ``PaymentProviderUnavailable`` by that name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

from shared.errors import TemplatedError


class PaymentProviderError(Exception):
    """Base of every provider failure."""


class CardDeclined(TemplatedError, PaymentProviderError):
    """The issuer (or the processor) refused the card: a business outcome, never retried."""

    template = "card declined: {code}"
    code: str


class PaymentProviderUnavailable(PaymentProviderError):
    """A transient provider fault (timeout, 5xx, rate limit): safe to retry with the same key."""


class PaymentProviderRejected(PaymentProviderError):
    """The provider refused the request itself (double capture, over-refund, unknown id, ...)."""


AuthorizationState = Literal["AUTHORIZED", "CAPTURED", "VOIDED"]


@dataclass(frozen=True)
class AuthorizationInfo:
    """What the provider holds under an authorization."""

    authorization_id: str
    amount_cents: int
    state: AuthorizationState


@dataclass(frozen=True)
class CaptureInfo:
    """What the provider charged under a capture (and gave back of it so far)."""

    capture_id: str
    authorization_id: str
    amount_cents: int
    refunded_cents: int = 0


class PaymentProvider(ABC):
    @abstractmethod
    def authorize(self, idempotency_key: str, token: str, amount_cents: int) -> str:
        """Place a hold of amount_cents on the card; returns the authorization id.

        Raises CardDeclined or PaymentProviderUnavailable. A repeated key returns the same id.
        """

    @abstractmethod
    def capture(self, authorization_id: str, amount_cents: int, *, idempotency_key: str) -> str:
        """Charge an authorization, at most once and at most its authorized amount; returns the
        capture id. Raises PaymentProviderRejected for a voided or already captured authorization."""

    @abstractmethod
    def refund(self, capture_id: str, amount_cents: int, *, idempotency_key: str) -> str:
        """Give back up to what was captured; returns the refund id."""

    @abstractmethod
    def void(self, authorization_id: str) -> None:
        """Release an uncaptured authorization; voiding a voided one is a no-op."""

    @abstractmethod
    def find_authorization(self, idempotency_key: str) -> AuthorizationInfo | None:
        """The authorization made under ``idempotency_key``, if any (declines leave none)."""

    @abstractmethod
    def find_capture(self, idempotency_key: str) -> CaptureInfo | None:
        """The capture made under ``idempotency_key``, if any."""
