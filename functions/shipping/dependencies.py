"""The only place shipping's adapters are built (once per cold start; shared.dependencies.reset()).

Each factory imports its own adapter: boto3 arrives with the first one, not with the handler module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.config import load
from shared.dependencies import dependency, event_publisher
from shipping.config import ShippingSettings

if TYPE_CHECKING:
    from shipping.data.repository import ShipmentRepository


@dependency
def repository() -> ShipmentRepository:
    from shipping.data.dynamodb import DynamoDBShipmentRepository

    return DynamoDBShipmentRepository(load(ShippingSettings).shipments_table)


publisher = event_publisher(lambda: load(ShippingSettings).event_bus_name)
