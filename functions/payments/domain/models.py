"""The PAY#{order_id} record and the results of each payment step."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

FailureReason = Literal["PAYMENT_DECLINED", "PAYMENT_UNAVAILABLE"]


class PaymentState(StrEnum):
    """Forward-only: AUTHORIZED -> CAPTURED -> REFUNDED; AUTHORIZED -> VOIDED; AUTHORIZED -> REFUNDED
    (a capture whose answer was lost, found and given back by compensation); DECLINED; FAILED.

    VOIDED, REFUNDED, DECLINED and FAILED are final: no step, however often or concurrently it is
    replayed, moves a payment out of them (see ``FINAL_STATES``).
    """

    AUTHORIZED = "AUTHORIZED"
    DECLINED = "DECLINED"
    CAPTURED = "CAPTURED"
    VOIDED = "VOIDED"
    REFUNDED = "REFUNDED"
    FAILED = "FAILED"


FINAL_STATES = frozenset({PaymentState.VOIDED, PaymentState.REFUNDED, PaymentState.DECLINED, PaymentState.FAILED})


@dataclass(frozen=True)
class Payment:
    order_id: str
    state: PaymentState
    # the order amount before tax; authorize holds and capture charges amount_cents + tax_cents
    amount_cents: int | None = None
    tax_cents: int | None = None
    authorization_id: str | None = None
    capture_id: str | None = None
    captured_cents: int | None = None
    refund_id: str | None = None
    refunded_cents: int | None = None
    reason: FailureReason | None = None
    decline_code: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    # when each fact happened: a re-announcement carries the same time as the first one
    captured_at: str | None = None
    refunded_at: str | None = None
    failed_at: str | None = None


@dataclass(frozen=True)
class PaymentOutcome:
    """A step's result; ``replayed`` is True when an earlier decision was returned again."""

    status: Literal["AUTHORIZED", "DECLINED", "CAPTURED", "REFUNDED", "VOIDED", "FAILED", "NOTHING_TO_DO"]
    details: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False

    def result(self) -> dict[str, Any]:
        return {"status": self.status, **self.details}


@dataclass(frozen=True)
class ChargeOutcome:
    """A charge's authorize outcome and, when it went on to capture, the capture's outcome."""

    authorization: PaymentOutcome
    capture: PaymentOutcome | None = None

    @property
    def final(self) -> PaymentOutcome:
        """The step's answer: the capture's, else the authorization's (a decline, a final payment)."""
        return self.capture or self.authorization


@dataclass(frozen=True)
class TaxOutcome:
    tax_cents: int
    replayed: bool = False

    def result(self) -> dict[str, Any]:
        return {"tax_cents": self.tax_cents}


@dataclass(frozen=True)
class WorkflowRequest:
    """The payment workflow's input: what InventoryReserved carried for the charge."""

    order_id: str
    customer_id: str
    amount_cents: int
    payment_ref: str = field(repr=False)
    correlation_id: str
    flow: Literal["orchestrated", "choreographed"]

    def execution_input(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "amount_cents": self.amount_cents,
            "payment_ref": self.payment_ref,
            "correlation_id": self.correlation_id,
            "flow": self.flow,
        }
