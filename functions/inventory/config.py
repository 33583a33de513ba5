"""Inventory configuration: a pydantic model validated from the environment at cold start.

Settings are built lazily and cached, so a test can set the environment first and call
``cache_clear()`` to re-read it; logic never reads ``os.environ`` itself.
"""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class ApiSettings(BaseModel):
    """What inventory-api needs: it only reads and writes the inventory table."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    inventory_table: str = Field(alias="INVENTORY_TABLE", min_length=1)


class WorkerSettings(ApiSettings):
    """What inventory-tasks and inventory-consumer need: they also announce outcomes."""

    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)


@cache
def api_settings() -> ApiSettings:
    return ApiSettings.model_validate(dict(os.environ))


@cache
def worker_settings() -> WorkerSettings:
    return WorkerSettings.model_validate(dict(os.environ))
