"""Inventory: stock and reservations; reserve all lines atomically, release on compensation."""

from __future__ import annotations

from constructs import Construct

from cdk.common import EventConsumer, ServiceFunction, Shared, choreographed, service_table


class InventoryConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, shared: Shared) -> None:
        super().__init__(scope, construct_id)
        self.table = service_table(self, "Table", "pk")
        env = {"INVENTORY_TABLE": self.table.table_name, "EVENT_BUS_NAME": shared.bus.event_bus_name}

        self.api = ServiceFunction(
            self,
            "Api",
            shared=shared,
            service="inventory",
            handler_module="api",
            description="stock and price API",
            environment={"INVENTORY_TABLE": self.table.table_name},
        )
        # PutItem: an adjustment's ADJ# record, written in one TransactWriteItems with the stock
        # update (a transaction is authorized per action it carries: UpdateItem and PutItem).
        self.api.grant(["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"], [self.table.table_arn])

        self.tasks = ServiceFunction(
            self,
            "Tasks",
            shared=shared,
            service="inventory",
            handler_module="saga_tasks",
            description="reserve and release stock for the order saga",
            environment=env,
        )
        self.consumer = ServiceFunction(
            self,
            "Consumer",
            shared=shared,
            service="inventory",
            handler_module="consumer",
            description="reserve and release stock on choreographed events",
            environment=env,
        )
        for fn in (self.tasks, self.consumer):
            fn.grant(
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                [self.table.table_arn],
            )
            shared.bus.grant_put_events_to(fn.role)
        self.events = EventConsumer(
            self,
            "Events",
            shared=shared,
            function=self.consumer,
            patterns={
                "ReserveOnOrderPlaced": choreographed(["OrderPlaced"], ["orderflow.orders"]),
                "ReleaseOnPaymentFailed": choreographed(["PaymentFailed"], ["orderflow.payments"]),
                "ReleaseOnOrderRejected": choreographed(["OrderRejected"], ["orderflow.orders"]),
            },
        )
