"""Inventory configuration (shared.config style): one model per kind of function."""

from __future__ import annotations

from pydantic import Field

from shared.config import TABLE_NAME, Settings


class ApiSettings(Settings):
    """What inventory-api needs: it only reads and writes the inventory table."""

    inventory_table: str = Field(alias="INVENTORY_TABLE", pattern=TABLE_NAME)


class WorkerSettings(ApiSettings):
    """What inventory-tasks and inventory-consumer need: they also announce outcomes."""

    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
