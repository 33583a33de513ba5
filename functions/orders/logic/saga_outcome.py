"""Reading the order saga's answer. The output is another component's JSON: trust nothing in it."""

from __future__ import annotations

import json
import re
from typing import Any

from orders.data.saga import SagaExecution
from orders.domain.errors import SagaFailedError, SagaTimedOutError
from orders.domain.models import Order
from orders.logic.placed import PlacedOrder

_REASON = re.compile(r"^[A-Z][A-Z_]{0,63}$")


def _json_object(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _cents(value: Any) -> int | None:
    # bool is an int in Python; a saga that says `true` did not compute a tax.
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def interpret_execution(execution: SagaExecution, order: Order) -> PlacedOrder:
    """The saga's decision for ``order``; raises SagaFailedError / SagaTimedOutError without one."""
    if execution.status == "TIMED_OUT":
        raise SagaTimedOutError(
            "the order saga timed out", execution=execution.execution, status=execution.status, error=execution.error
        )
    if execution.status != "SUCCEEDED":
        raise SagaFailedError(
            "the order saga failed", execution=execution.execution, status=execution.status, error=execution.error
        )
    output = _json_object(execution.output)
    if output is None:
        raise SagaFailedError(
            "the order saga returned no readable output", execution=execution.execution, status=execution.status
        )
    if output.get("order_id", order.order_id) != order.order_id:
        raise SagaFailedError(
            "the order saga answered for another order", execution=execution.execution, status=execution.status
        )
    decision = output.get("status")
    if decision == "CONFIRMED":
        return PlacedOrder.of(order, status="CONFIRMED", tax_cents=_cents(output.get("tax_cents")))
    if decision == "REJECTED":
        reason = output.get("reason")
        return PlacedOrder.of(
            order,
            status="REJECTED",
            reason=reason if isinstance(reason, str) and _REASON.match(reason) else "INTERNAL_ERROR",
        )
    raise SagaFailedError("the order saga returned no decision", execution=execution.execution, status=execution.status)
