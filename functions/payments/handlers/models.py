"""Input models of payments-tasks: one per action, told apart by ``action``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, RootModel, StrictInt

from payments.domain.models import FailureReason
from shared.events import Flow


class _Task(BaseModel):
    # Tolerate keys the state machine adds; what we need is validated strictly.
    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: str = Field(min_length=1)
    correlation_id: str = Field(min_length=1)
    flow: Flow


# The saga names the order amount total_cents; the payment workflow names it amount_cents.
_Amount = Annotated[StrictInt, Field(gt=0, validation_alias=AliasChoices("amount_cents", "total_cents"))]


class AuthorizeTask(_Task):
    """Hold amount_cents + tax_cents (tax from calculate_tax, which runs first)."""

    action: Literal["authorize"]
    amount_cents: _Amount
    # required: the hold is the full amount, tax included (a capture can never exceed it)
    tax_cents: StrictInt = Field(ge=0)
    # the card token sealed for this order (shared.payment_ref); only authorize opens it
    payment_ref: str = Field(min_length=1, repr=False)


class CalculateTaxTask(_Task):
    """Pure: the tax on amount_cents at TAX_RATE_BPS; needs no payment record."""

    action: Literal["calculate_tax"]
    amount_cents: _Amount


class CaptureTask(_Task):
    action: Literal["capture"]


class ChargeTask(_Task):
    """calculate_tax -> authorize (amount + tax) -> capture in one invocation (the saga's and the
    payment workflow's one payment step); each part is its own idempotent, injectable step."""

    action: Literal["charge"]
    amount_cents: _Amount
    payment_ref: str = Field(min_length=1, repr=False)
    # How long after the invocation starts a capture may still begin (the caller's task timeout
    # minus a margin): past it the caller has stopped listening, so nothing is charged.
    budget_ms: StrictInt | None = Field(default=None, gt=0)


class SettleTask(_Task):
    """After a capture step failed through its retries: whether the capture landed (the workflow's pivot)."""

    action: Literal["settle"]


class RefundTask(_Task):
    action: Literal["refund"]


class VoidTask(_Task):
    action: Literal["void"]


class FailTask(_Task):
    action: Literal["fail"]
    reason: FailureReason = "PAYMENT_UNAVAILABLE"


AnyTask = AuthorizeTask | CalculateTaxTask | CaptureTask | ChargeTask | SettleTask | RefundTask | VoidTask | FailTask


class PaymentTask(RootModel[Annotated[AnyTask, Field(discriminator="action")]]):
    """A payments-tasks payload."""
