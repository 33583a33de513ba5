"""The only place inventory's adapters are built (once per cold start; shared.dependencies.reset())."""

from __future__ import annotations

from inventory.config import ApiSettings, WorkerSettings
from inventory.data.dynamodb import DynamoInventoryRepository
from inventory.logic import Inventory
from shared.config import load
from shared.dependencies import dependency
from shared.publisher import EventPublisher


@dependency
def api_inventory() -> Inventory:
    """Reads and writes stock only; inventory-api has no bus to publish to."""
    return Inventory(DynamoInventoryRepository(load(ApiSettings).inventory_table))


@dependency
def worker_inventory() -> Inventory:
    settings = load(WorkerSettings)
    return Inventory(DynamoInventoryRepository(settings.inventory_table), EventPublisher(settings.event_bus_name))
