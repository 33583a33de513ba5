"""Shipping: one shipment per confirmed order, whichever path confirmed it."""

from __future__ import annotations

from constructs import Construct

from cdk.common import ServiceConstruct, Shared, any_flow, service_table


class ShippingConstruct(ServiceConstruct):
    service = "shipping"

    def __init__(self, scope: Construct, construct_id: str, *, shared: Shared) -> None:
        super().__init__(scope, construct_id, shared=shared)
        self.table = service_table(self, "Table", "order_id")
        self.consumer = self.function(
            "Consumer",
            "consumer",
            "schedule one shipment per confirmed order",
            environment={"SHIPMENTS_TABLE": self.table.table_name, "EVENT_BUS_NAME": shared.bus.event_bus_name},
        )
        self.consumer.grant(["dynamodb:GetItem", "dynamodb:PutItem"], [self.table.table_arn])
        shared.bus.grant_put_events_to(self.consumer.role)
        self.events = self.subscribe(
            "Events", self.consumer, {"ShipOnOrderConfirmed": any_flow(["OrderConfirmed"], ["orderflow.orders"])}
        )
