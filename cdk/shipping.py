"""Shipping: one shipment per confirmed order, whichever path confirmed it."""

from __future__ import annotations

from constructs import Construct

from cdk.common import EventConsumer, ServiceFunction, Shared, any_flow, service_table


class ShippingConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, shared: Shared) -> None:
        super().__init__(scope, construct_id)
        self.table = service_table(self, "Table", "order_id")
        self.consumer = ServiceFunction(
            self,
            "Consumer",
            shared=shared,
            service="shipping",
            handler_module="consumer",
            description="schedule one shipment per confirmed order",
            environment={"SHIPMENTS_TABLE": self.table.table_name, "EVENT_BUS_NAME": shared.bus.event_bus_name},
        )
        self.consumer.grant(["dynamodb:GetItem", "dynamodb:PutItem"], [self.table.table_arn])
        shared.bus.grant_put_events_to(self.consumer.role)
        self.events = EventConsumer(
            self,
            "Events",
            shared=shared,
            function=self.consumer,
            patterns={"ShipOnOrderConfirmed": any_flow(["OrderConfirmed"], ["orderflow.orders"])},
        )
