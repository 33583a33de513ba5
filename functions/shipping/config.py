"""Shipping configuration (shared.config style): what shipping-consumer needs."""

from __future__ import annotations

from pydantic import Field

from shared.config import TABLE_NAME, Settings


class ShippingSettings(Settings):
    shipments_table: str = Field(alias="SHIPMENTS_TABLE", pattern=TABLE_NAME)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
