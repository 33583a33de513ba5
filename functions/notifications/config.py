"""Notifications configuration (shared.config style): what notifications-consumer needs."""

from __future__ import annotations

from pydantic import Field

from shared.config import TABLE_NAME, Settings


class NotificationsSettings(Settings):
    notifications_topic_arn: str = Field(alias="NOTIFICATIONS_TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:")
    analytics_table: str = Field(alias="ANALYTICS_TABLE", pattern=TABLE_NAME)
