"""Input and output models of the inventory handlers (the API body and the saga payloads)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictInt

from shared.events import Flow, OrderLine

SKU_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"

Sku = Annotated[str, Path(description="Stock keeping unit", pattern=SKU_PATTERN)]


class SetStockBody(BaseModel):
    """PUT /inventory/{sku}. Strict: "5", true and 5.5 are not quantities."""

    model_config = ConfigDict(extra="forbid", strict=True)

    available: StrictInt = Field(ge=0)
    price_cents: StrictInt = Field(gt=0)


class StockItemView(BaseModel):
    sku: str
    available: int
    reserved: int
    price_cents: int


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
    payment_token: str = Field(min_length=1)


class ReleaseTask(_SagaTask):
    action: Literal["release"]


class InventoryTask(RootModel[Annotated[ReserveTask | ReleaseTask, Field(discriminator="action")]]):
    """The task payload, told apart by ``action``."""


class ErrorBody(BaseModel):
    """Every error this API answers: what went wrong, and which field or header it was."""

    error: str
    details: list[dict[str, object]] | dict[str, object] = Field(default_factory=list)
