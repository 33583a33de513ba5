"""Inventory: stock and reservations; reserve all lines atomically, release on compensation."""

from __future__ import annotations

from constructs import Construct

from cdk.common import ServiceConstruct, Shared, choreographed, service_table


class InventoryConstruct(ServiceConstruct):
    service = "inventory"

    def __init__(self, scope: Construct, construct_id: str, *, shared: Shared) -> None:
        super().__init__(scope, construct_id, shared=shared)
        self.table = service_table(self, "Table", "pk")
        env = {"INVENTORY_TABLE": self.table.table_name, "EVENT_BUS_NAME": shared.bus.event_bus_name}

        self.api = self.function(
            "Api", "api", "stock and price API", environment={"INVENTORY_TABLE": self.table.table_name}
        )
        # PutItem: an adjustment's ADJ# record, written in one TransactWriteItems with the stock
        # update (a transaction is authorized per action it carries: UpdateItem and PutItem).
        self.api.grant(["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem"], [self.table.table_arn])

        self.tasks = self.function(
            "Tasks", "saga_tasks", "reserve and release stock for the order saga", environment=env
        )
        self.consumer = self.function(
            "Consumer", "consumer", "reserve and release stock on choreographed events", environment=env
        )
        for fn in (self.tasks, self.consumer):
            fn.grant(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [self.table.table_arn])
            shared.bus.grant_put_events_to(fn.role)
        self.events = self.subscribe(
            "Events",
            self.consumer,
            {
                "ReserveOnOrderPlaced": choreographed(["OrderPlaced"], ["orderflow.orders"]),
                "ReleaseOnPaymentFailed": choreographed(["PaymentFailed"], ["orderflow.payments"]),
                "ReleaseOnOrderRejected": choreographed(["OrderRejected"], ["orderflow.orders"]),
            },
        )
