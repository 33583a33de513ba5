"""Publishing events to the orderflow bus."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol

from shared.events import Envelope


class EventSink(Protocol):
    """What logic publishes through: EventPublisher deployed, a list in tests."""

    def publish(self, events: Iterable[Envelope]) -> None: ...


class PublishError(RuntimeError):
    """EventBridge refused one or more entries; the caller's retry republishes them."""


class EventPublisher:
    def __init__(self, bus_name: str, client: Any | None = None) -> None:
        self._bus_name = bus_name
        if client is None:
            import boto3  # with the first publisher, not at init

            client = boto3.client("events")
        self._client = client

    def publish(self, events: Iterable[Envelope]) -> None:
        entries = [
            {
                "EventBusName": self._bus_name,
                "Source": event.source,
                "DetailType": event.detail_type,
                "Detail": json.dumps(event.detail()),
                "Time": event.metadata.time,
            }
            for event in events
        ]
        for start in range(0, len(entries), 10):  # PutEvents takes at most 10 entries
            batch = entries[start : start + 10]
            response = self._client.put_events(Entries=batch)
            if response.get("FailedEntryCount"):
                failed = [e for e in response["Entries"] if e.get("ErrorCode")]
                raise PublishError(f"{len(failed)} event(s) not accepted by {self._bus_name}: {failed}")
