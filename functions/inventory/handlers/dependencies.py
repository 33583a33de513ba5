"""Builds logic with its adapters once per cold start (and again after ``reset()`` in tests)."""

from __future__ import annotations

from functools import cache

from inventory.config import api_settings, worker_settings
from inventory.data.dynamodb import DynamoInventoryRepository
from inventory.logic import Inventory
from shared.publisher import EventPublisher


@cache
def api_inventory() -> Inventory:
    """Reads and writes stock only; inventory-api has no bus to publish to."""
    return Inventory(DynamoInventoryRepository(api_settings().inventory_table))


@cache
def worker_inventory() -> Inventory:
    settings = worker_settings()
    return Inventory(DynamoInventoryRepository(settings.inventory_table), EventPublisher(settings.event_bus_name))


def reset() -> None:
    """Forget settings and clients so the next invocation re-reads the environment."""
    for cached in (api_inventory, worker_inventory, api_settings, worker_settings):
        cached.cache_clear()
