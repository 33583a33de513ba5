"""Interfaces logic depends on for the payment record and the payment workflow."""

from __future__ import annotations

from typing import Any, Protocol

from payments.domain.models import Payment, PaymentState


class PaymentRepository(Protocol):
    def get(self, order_id: str) -> Payment | None: ...

    def create(self, payment: Payment) -> bool:
        """Store the order's first payment record; False, writing nothing, if one exists."""
        ...

    def transition(self, expected: PaymentState, payment: Payment) -> bool:
        """Replace the record only if it is still in ``expected`` state; False otherwise."""
        ...


class WorkflowStarter(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> bool:
        """Start the payment workflow execution ``name``; False if it already exists."""
        ...
