"""Notifications configuration, read from the environment once per cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class NotificationsConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    notifications_topic_arn: str = Field(alias="NOTIFICATIONS_TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:")
    analytics_table: str = Field(alias="ANALYTICS_TABLE", min_length=1)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> NotificationsConfig:
        """Raises pydantic.ValidationError naming every missing or malformed variable."""
        return cls.model_validate(dict(os.environ if environ is None else environ))
