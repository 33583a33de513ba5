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
from typing import TypeVar

from shared import config

T = TypeVar("T")
_factories: list[Callable[[], object]] = []


def dependency(factory: Callable[[], T]) -> Callable[[], T]:
    """Caches ``factory``'s result until ``reset()``."""
    cached = cache(factory)
    _factories.append(cached)
    return cached


def reset() -> None:
    """Forget every built dependency and loaded configuration (tests change the environment)."""
    for factory in _factories:
        factory.cache_clear()  # type: ignore[attr-defined]
    config.reset()
