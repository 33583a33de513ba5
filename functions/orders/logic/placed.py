"""The outcome of placing an order; also what an idempotent replay returns."""

from __future__ import annotations

from orders.domain.models import Order, OrderSummary


class PlacedOrder(OrderSummary):
    correlation_id: str

    @classmethod
    def of(
        cls, order: Order, *, status: str | None = None, reason: str | None = None, tax_cents: int | None = None
    ) -> PlacedOrder:
        return cls(
            order_id=order.order_id,
            flow=order.flow,
            status=status or order.status,
            reason=reason if reason is not None else order.reason,
            items=order.items,
            total_cents=order.total_cents,
            tax_cents=tax_cents if tax_cents is not None else order.tax_cents,
            correlation_id=order.correlation_id,
        )
