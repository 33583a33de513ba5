"""The REST API's input and output models (they are also its OpenAPI document)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from orders.domain.models import OrderSummary
from shared.events import Flow, OrderLine

MAX_LINES = 25
MAX_QUANTITY = 1000


class _Input(BaseModel):
    # Strict: no "5" for 5, no true for 1; unknown fields are an error, not silently dropped.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class OrderLineInput(_Input):
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class PaymentInput(_Input):
    # SecretStr keeps the token out of reprs, tracebacks and accidental log lines.
    token: SecretStr = Field(min_length=1, max_length=128)


class PlaceOrderRequest(_Input):
    customer_id: str = Field(min_length=1, max_length=64)
    items: list[OrderLineInput] = Field(min_length=1, max_length=MAX_LINES)
    payment: PaymentInput
    flow: Flow

    def canonical(self) -> dict[str, object]:
        """The request as plain JSON values (token included), for the idempotency record's hash only."""
        return {
            "customer_id": self.customer_id,
            "items": [line.model_dump() for line in self.items],
            "payment": {"token": self.payment.token.get_secret_value()},
            "flow": self.flow,
        }


class _Output(BaseModel):
    model_config = ConfigDict(frozen=True)


class OrderAccepted(_Output):
    """202: a choreographed order was recorded; follow Location for its status."""

    order_id: str
    status: str
    flow: Flow


class OrderConfirmedResponse(_Output):
    """201: the orchestrated saga confirmed the order."""

    order_id: str
    status: Literal["CONFIRMED"]
    flow: Flow
    items: list[OrderLine]
    total_cents: int
    tax_cents: int | None = None
    correlation_id: str


class OrderRejectedResponse(_Output):
    """409 (OUT_OF_STOCK), 402 (PAYMENT_DECLINED) or 503 (PAYMENT_UNAVAILABLE, INTERNAL_ERROR)."""

    order_id: str
    status: Literal["REJECTED"]
    reason: str


class OrderView(OrderSummary):
    customer_id: str
    created_at: str
    updated_at: str
    correlation_id: str


class TimelineEvent(_Output):
    time: str
    source: str
    detail_type: str
    event_id: str
    correlation_id: str
    flow: str
    summary: dict[str, object]


class TimelineView(_Output):
    order_id: str
    events: list[TimelineEvent]
