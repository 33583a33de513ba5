"""The only place shipping's adapters are built (once per cold start; shared.dependencies.reset())."""

from __future__ import annotations

from shared.config import load
from shared.dependencies import dependency
from shared.publisher import EventPublisher, EventSink
from shipping.config import ShippingSettings
from shipping.data.dynamodb import DynamoDBShipmentRepository
from shipping.data.repository import ShipmentRepository


@dependency
def repository() -> ShipmentRepository:
    return DynamoDBShipmentRepository(load(ShippingSettings).shipments_table)


@dependency
def publisher() -> EventSink:
    return EventPublisher(load(ShippingSettings).event_bus_name)
