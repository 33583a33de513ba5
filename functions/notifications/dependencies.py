"""The only place notifications' adapters are built (once per cold start; shared.dependencies.reset()).

Each factory imports its own adapter: boto3 arrives with the first one, not with the handler module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from notifications.config import NotificationsSettings
from shared.config import load
from shared.dependencies import dependency

if TYPE_CHECKING:
    from notifications.data.repository import AnalyticsRepository, Notifier


@dependency
def analytics() -> AnalyticsRepository:
    from notifications.data.dynamodb import DynamoDBAnalyticsRepository

    return DynamoDBAnalyticsRepository(load(NotificationsSettings).analytics_table)


@dependency
def notifier() -> Notifier:
    from notifications.data.sns import SNSNotifier

    return SNSNotifier(load(NotificationsSettings).notifications_topic_arn)
