"""inventory-tasks: the saga's ReserveInventory and ReleaseInventory steps.

Business outcomes (RESERVED, REJECTED, RELEASED) are results; technical failures raise, so
the state machine's Retry/Catch see the exception class name as the Lambda errorType.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from inventory.dependencies import worker_inventory
from inventory.handlers.models import InventoryTask, ReserveTask, reservation_request
from inventory.observability import entry, logger, record_release, record_reservation
from shared.observability import bind_correlation


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse(event=event, model=InventoryTask).root
    bind_correlation(logger, task.correlation_id, task.order_id)
    logger.append_keys(flow=task.flow, action=task.action)
    inventory = worker_inventory()
    if isinstance(task, ReserveTask):
        outcome = inventory.reserve_stock(reservation_request(task, task.correlation_id, task.flow))
        record_reservation(outcome)
        return outcome.result()
    released = inventory.release_stock(task.order_id, task.correlation_id, task.flow)
    record_release(released)
    return released.result()
