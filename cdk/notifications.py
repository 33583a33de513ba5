"""Notifications: customer notifications (SNS) and analytics for every outcome."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from cdk.common import ServiceConstruct, Shared, any_flow, service_table


class NotificationsConstruct(ServiceConstruct):
    service = "notifications"

    def __init__(self, scope: Construct, construct_id: str, *, shared: Shared) -> None:
        super().__init__(scope, construct_id, shared=shared)
        self.key = kms.Key(
            self,
            "TopicKey",
            enable_key_rotation=True,
            description="orderflow customer notifications topic",
            pending_window=Duration.days(7),
        )
        self.topic = sns.Topic(self, "CustomerNotifications", master_key=self.key, enforce_ssl=True)
        self.table = service_table(self, "AnalyticsTable", "pk")
        # One item per counted event; a day's counts are a query of its events (docs/decisions.md, 18).
        self.table.add_global_secondary_index(
            index_name="ByDay",
            partition_key=dynamodb.Attribute(name="day", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=["detail_type", "confirmed_cents"],
        )
        self.consumer = self.function(
            "Consumer",
            "consumer",
            "notify customers and record analytics on outcomes",
            environment={"NOTIFICATIONS_TOPIC_ARN": self.topic.topic_arn, "ANALYTICS_TABLE": self.table.table_name},
        )
        self.topic.grant_publish(self.consumer.role)
        self.consumer.grant(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], [self.table.table_arn])
        outcomes = ["OrderConfirmed", "OrderRejected", "ShipmentScheduled"]
        self.events = self.subscribe(
            "Events", self.consumer, {"NotifyOnOutcome": any_flow(outcomes, ["orderflow.orders", "orderflow.shipping"])}
        )
