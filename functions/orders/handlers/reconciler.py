"""orders-reconciler: a scheduled rule (every minute) -> decide orders left undecided past their deadline.

"Now" is the scheduled event's own `time` (when the schedule fired), else the clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders import dependencies
from orders.observability import entry, logger, metrics


def _fired_at(event: Any) -> datetime | None:
    value = event.get("time") if isinstance(event, dict) else None
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = dependencies.reconciler().run(_fired_at(event))
    metrics.add_metric(name="OrdersReconciled", unit=MetricUnit.Count, value=len(outcome.rejected))
    if outcome.rejected or outcome.compensating:
        logger.info(
            "reconciled undecided orders",
            extra={"rejected": len(outcome.rejected), "compensating": len(outcome.compensating)},
        )
    return {
        "rejected": outcome.rejected,
        "compensating": outcome.compensating,
        "decided_meanwhile": outcome.decided_meanwhile,
    }
