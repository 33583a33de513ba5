"""Where a service builds its adapters: ``@dependency`` factories, built once per cold start.

Every service's ``dependencies.py`` is the only place its adapters (DynamoDB repositories,
publishers, clients) and use cases are constructed::

    @dependency
    def shipping() -> Shipping:
        settings = load(ShippingSettings)
        return Shipping(DynamoDBShipmentRepository(settings.shipments_table), EventPublisher(settings.event_bus_name))

Handlers call the factory when they run; tests either pass fakes straight to the logic, or set
the environment and call ``reset()``, which forgets every factory's instance and every loaded
configuration, in every service (one way to reset, whatever the service).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, TypeVar

from shared import config

if TYPE_CHECKING:
    from shared.publisher import EventSink

T = TypeVar("T")
_factories: list[Callable[[], object]] = []


def dependency(factory: Callable[[], T]) -> Callable[[], T]:
    """Caches ``factory``'s result until ``reset()``."""
    cached = cache(factory)
    _factories.append(cached)
    return cached


def event_publisher(bus_name: Callable[[], str]) -> Callable[[], EventSink]:
    """A service's publisher factory: an EventPublisher on the bus ``bus_name()`` names, built on the
    first call (boto3 arrives with it, not with the handler module) and kept until ``reset()``."""

    @dependency
    def publisher() -> EventSink:
        from shared.publisher import EventPublisher

        return EventPublisher(bus_name())

    return publisher


def reset() -> None:
    """Forget every built dependency and loaded configuration (tests change the environment)."""
    for factory in _factories:
        factory.cache_clear()  # type: ignore[attr-defined]
    config.reset()
