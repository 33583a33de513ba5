"""The shipment, as the shipping service stores it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ShipmentStatus = Literal["SCHEDULED"]
SCHEDULED: ShipmentStatus = "SCHEDULED"
# Shipment ids derive from the order id, so every retry and every duplicate delivery of
# OrderConfirmed computes the same shipment (and the same ShipmentScheduled event).
_SHIPMENT_NAMESPACE = uuid.UUID("0c5d3a52-6f47-4d1e-8f0b-5b1f3c2e9a71")


def shipment_id_for(order_id: str) -> str:
    return f"shp-{uuid.uuid5(_SHIPMENT_NAMESPACE, order_id)}"


class ShipmentLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    sku: str
    quantity: int = Field(ge=1)


class Shipment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    order_id: str
    shipment_id: str
    status: ShipmentStatus
    created_at: datetime
    items: list[ShipmentLine]
    correlation_id: str | None = None
