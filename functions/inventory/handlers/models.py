"""Input and output models of the inventory handlers (the API body and the saga payloads)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictInt, field_validator
from pydantic_core import PydanticCustomError

from inventory.domain.models import (
    MAX_AVAILABLE,
    MAX_DELTA,
    MAX_IDEMPOTENCY_KEY_LENGTH,
    MAX_PRICE_CENTS,
    MAX_REASON_LENGTH,
    ReservationRequest,
)
from shared.events import Flow, OrderLine, OrderPlaced

SKU_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
# If-Match and If-None-Match take "*" or a comma-separated list of entity tags: "7" as ETag sends
# it (7 unquoted is read the same). A tag that is not one of our versions matches nothing, so a
# malformed If-Match fails closed (412) rather than turning the write unconditional.
MAX_PRECONDITION_LENGTH = 256
IDEMPOTENCY_HEADER = "Idempotency-Key"

Sku = Annotated[str, Path(description="Stock keeping unit", pattern=SKU_PATTERN)]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=MAX_PRECONDITION_LENGTH,
        description=(
            'The version last read, as its ETag ("7"), or a comma-separated list: the write happens only if the '
            "item is still at one of them, else 412 and nothing changes. * means the sku must exist. Weak tags "
            '(W/"7") and anything that is not a version never match.'
        ),
    ),
]
IfNoneMatch = Annotated[
    str | None,
    Header(
        alias="If-None-Match",
        max_length=MAX_PRECONDITION_LENGTH,
        description=(
            "* : create only, 412 if the sku exists; entity tags: 412 if the item is at one of them. "
            "Without it and If-Match, PUT creates or overwrites."
        ),
    ),
]
IdempotencyKey = Annotated[
    str,
    Header(
        alias=IDEMPOTENCY_HEADER,
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY_LENGTH,
        description="Required. Same key and body on this sku: applied once, the first result returned again.",
    ),
]


class SetStockBody(BaseModel):
    """PUT /inventory/{sku}. Strict: "5", true and 5.5 are not quantities."""

    model_config = ConfigDict(extra="forbid", strict=True)

    available: StrictInt = Field(ge=0, le=MAX_AVAILABLE)
    price_cents: StrictInt = Field(gt=0, le=MAX_PRICE_CENTS)


class AdjustmentBody(BaseModel):
    """POST /inventory/{sku}/adjustments: add ``delta`` (may be negative, never 0) to available."""

    model_config = ConfigDict(extra="forbid", strict=True)

    delta: StrictInt = Field(ge=-MAX_DELTA, le=MAX_DELTA, json_schema_extra={"not": {"const": 0}})
    reason: str | None = Field(default=None, min_length=1, max_length=MAX_REASON_LENGTH, pattern=r"^[^\x00-\x1f\x7f]+$")

    @field_validator("delta")
    @classmethod
    def _not_zero(cls, delta: int) -> int:
        if delta == 0:
            raise PydanticCustomError("not_zero", "Input should not be 0: an adjustment changes stock")
        return delta


class StockItemView(BaseModel):
    sku: str
    available: int
    reserved: int
    price_cents: int
    version: int = Field(description="Incremented by every PUT and adjustment; also the ETag header")


class _SagaTask(BaseModel):
    # Tolerate keys a state machine adds (its whole state, earlier results); what we need is strict.
    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: str = Field(min_length=1)
    correlation_id: str = Field(min_length=1)
    flow: Flow


class ReserveTask(_SagaTask):
    action: Literal["reserve"]
    customer_id: str = Field(min_length=1)
    items: list[OrderLine] = Field(min_length=1, max_length=25)
    total_cents: StrictInt = Field(gt=0)
    payment_ref: str = Field(min_length=1)


class ReleaseTask(_SagaTask):
    action: Literal["release"]


class InventoryTask(RootModel[Annotated[ReserveTask | ReleaseTask, Field(discriminator="action")]]):
    """The task payload, told apart by ``action``."""


def reservation_request(order: OrderPlaced | ReserveTask, correlation_id: str, flow: Flow) -> ReservationRequest:
    """What reserving takes from an order, as OrderPlaced (choreographed) or the saga carries it."""
    return ReservationRequest(
        order_id=order.order_id,
        customer_id=order.customer_id,
        items=tuple(order.items),
        total_cents=order.total_cents,
        payment_ref=order.payment_ref,
        correlation_id=correlation_id,
        flow=flow,
    )
