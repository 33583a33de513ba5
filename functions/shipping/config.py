"""Shipping configuration, read from the environment once per cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class ShippingConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    shipments_table: str = Field(alias="SHIPMENTS_TABLE", min_length=1)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ShippingConfig:
        """Raises pydantic.ValidationError naming every missing variable."""
        return cls.model_validate(dict(os.environ if environ is None else environ))
