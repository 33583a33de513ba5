"""Publishing the orders service's own events to the orderflow bus."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from shared.events import Envelope
from shared.publisher import EventPublisher


class EventBus(ABC):
    @abstractmethod
    def publish(self, events: Sequence[Envelope]) -> None:
        """Publish all events or raise (the caller's retry republishes them, same ids)."""


class EventBridgeBus(EventBus):
    def __init__(self, bus_name: str, client: Any | None = None) -> None:
        self._publisher = EventPublisher(bus_name, client)

    def publish(self, events: Sequence[Envelope]) -> None:
        if events:
            self._publisher.publish(events)
