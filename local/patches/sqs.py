"""SQS: a message made visible again wakes long polls (moto only wakes them for new messages)."""

from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger("local.patches")


def patch() -> None:
    from moto.sqs.models import SQSBackend

    original = SQSBackend.change_message_visibility

    @functools.wraps(original)
    def change_message_visibility(self: Any, queue_name: str, receipt_handle: str, visibility_timeout: int) -> None:
        original(self, queue_name, receipt_handle, visibility_timeout)
        # moto's long poll only wakes for new messages; one made visible again must wake it too.
        wake_long_polls(self.get_queue(queue_name))

    SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]


def wake_long_polls(queue: Any) -> None:
    """Wakes the long polls waiting on a moto queue (they look at its messages again)."""
    condition = getattr(queue, "_messages_lock", None)
    if condition is not None:
        with condition:
            condition.notify_all()
