"""What the notifications logic needs from storage and from the customer channel."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from notifications.domain.models import Notification, OutcomeRecord, RecordResult


class AnalyticsRepository(ABC):
    @abstractmethod
    def record_outcome(self, record: OutcomeRecord) -> RecordResult:
        """Count the event once. On a duplicate, count nothing and say whether it was already notified."""

    @abstractmethod
    def mark_notified(self, event_id: str, at: datetime) -> None:
        """Remember that the event's notification was published."""

    @abstractmethod
    def day_counts(self, day: str) -> dict[str, int]:
        """A day's (``yyyy-mm-dd``) counts: ``{detail_type}_count`` per outcome and ``confirmed_cents``."""


class Notifier(ABC):
    @abstractmethod
    def publish(self, notification: Notification) -> str:
        """Publish the notification; returns the message id."""
