"""The only place notifications' adapters are built (once per cold start; shared.dependencies.reset())."""

from __future__ import annotations

from notifications.config import NotificationsSettings
from notifications.data.dynamodb import DynamoDBAnalyticsRepository
from notifications.data.repository import AnalyticsRepository, Notifier
from notifications.data.sns import SNSNotifier
from shared.config import load
from shared.dependencies import dependency


@dependency
def analytics() -> AnalyticsRepository:
    return DynamoDBAnalyticsRepository(load(NotificationsSettings).analytics_table)


@dependency
def notifier() -> Notifier:
    return SNSNotifier(load(NotificationsSettings).notifications_topic_arn)
