"""The only place inventory's adapters are built (once per cold start; shared.dependencies.reset()).

Each factory imports its own adapters: boto3 arrives with the first one, not with the handler module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from inventory.config import ApiSettings, WorkerSettings
from shared.config import load
from shared.dependencies import dependency

if TYPE_CHECKING:
    from inventory.logic import Inventory


@dependency
def api_inventory() -> Inventory:
    """Reads and writes stock only; inventory-api has no bus to publish to."""
    from inventory.data.dynamodb import DynamoInventoryRepository
    from inventory.logic import Inventory

    return Inventory(DynamoInventoryRepository(load(ApiSettings).inventory_table))


@dependency
def worker_inventory() -> Inventory:
    from inventory.data.dynamodb import DynamoInventoryRepository
    from inventory.logic import Inventory
    from shared.publisher import EventPublisher

    settings = load(WorkerSettings)
    return Inventory(DynamoInventoryRepository(settings.inventory_table), EventPublisher(settings.event_bus_name))
