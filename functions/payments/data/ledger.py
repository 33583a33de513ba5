"""The simulated processor's ledger: its records and the interface it stores them through."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from payments.data.provider import AuthorizationInfo, CaptureInfo


@dataclass(frozen=True)
class SimAuthorization(AuthorizationInfo):
    """What the provider shows of an authorization, and the capture that took it (if any).

    ``amount_cents`` is what the card holds, and the most a capture may charge (no tolerance above it).
    """

    capture_id: str | None = None


# A capture is stored as the provider shows it (nothing refunded yet, when recorded).
SimCapture = CaptureInfo


@dataclass(frozen=True)
class SimRefund:
    refund_id: str
    capture_id: str
    amount_cents: int


class SimulatorLedger(Protocol):
    def count_attempt(self, idempotency_key: str) -> int:
        """Atomically count one more attempt for the key; returns the new count (1 for the first)."""
        ...

    def get_authorization(self, authorization_id: str) -> SimAuthorization | None: ...

    def create_authorization(self, authorization: SimAuthorization) -> bool:
        """False, writing nothing, if the authorization already exists."""
        ...

    def get_capture(self, capture_id: str) -> SimCapture | None: ...

    def record_capture(self, capture: SimCapture) -> bool:
        """Capture the authorization and store the capture, atomically.

        False if the authorization was no longer AUTHORIZED, the amount exceeds the authorized
        amount, or the capture already exists.
        """
        ...

    def get_refund(self, refund_id: str) -> SimRefund | None: ...

    def record_refund(self, refund: SimRefund, *, refunded_at_most: int) -> bool:
        """Add the refund to its capture and store it, atomically.

        False unless the capture's refunded total was at most ``refunded_at_most`` (so the new
        total cannot exceed what was captured) and the refund is new.
        """
        ...

    def record_void(self, authorization_id: str) -> bool:
        """False if the authorization was no longer AUTHORIZED."""
        ...
