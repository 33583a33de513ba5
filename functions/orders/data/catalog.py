"""Read-only price lookup in the inventory table (inventory owns every write to it)."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Collection
from decimal import Decimal
from typing import Any

from orders.domain.errors import CatalogUnavailableError
from shared.dynamodb import resource as dynamodb_resource

_MAX_KEYS_PER_CALL = 100
_ATTEMPTS = 4


class Catalog(ABC):
    @abstractmethod
    def prices(self, skus: Collection[str]) -> dict[str, int]:
        """Unit price in cents of each sku that exists and has a positive price; others are absent."""


class DynamoDBCatalog(Catalog):
    def __init__(self, table_name: str, resource: Any | None = None) -> None:
        self._table_name = table_name
        self._resource = resource or dynamodb_resource()

    def prices(self, skus: Collection[str]) -> dict[str, int]:
        wanted = sorted(set(skus))
        found: dict[str, int] = {}
        for start in range(0, len(wanted), _MAX_KEYS_PER_CALL):
            for item in self._batch_get(wanted[start : start + _MAX_KEYS_PER_CALL]):
                price = item.get("price_cents")
                sku = item.get("sku") or str(item.get("pk", "")).removeprefix("SKU#")
                if isinstance(price, Decimal) and price == price.to_integral_value() and price > 0:
                    found[sku] = int(price)
        return found

    def _batch_get(self, skus: list[str]) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            self._table_name: {
                "Keys": [{"pk": f"SKU#{sku}"} for sku in skus],
                "ProjectionExpression": "#pk, #sku, #price",
                "ExpressionAttributeNames": {"#pk": "pk", "#sku": "sku", "#price": "price_cents"},
            }
        }
        items: list[dict[str, Any]] = []
        for attempt in range(_ATTEMPTS):
            response = self._resource.batch_get_item(RequestItems=request)
            items.extend(response.get("Responses", {}).get(self._table_name, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return items
            time.sleep(0.05 * 2**attempt)  # throttled keys: back off, then ask again for those only
        raise CatalogUnavailableError("prices could not be read (unprocessed keys after retries)")
