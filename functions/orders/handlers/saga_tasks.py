"""orders-tasks: record, confirm and reject, the orders steps of the saga (payloads per docs/architecture.md).

The state machine passes its whole state, so unknown fields are ignored. Technical failures
raise (the state machine retries); business outcomes are returned.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from orders import dependencies
from orders.config import SagaTasksSettings
from orders.domain.models import Order, iso, undecided_shard, utc_now
from orders.observability import entry, logger, without_values
from shared.config import load
from shared.events import Flow, OrderLine
from shared.observability import bind_correlation


class _Task(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    order_id: str = Field(min_length=1, max_length=128)
    correlation_id: str = Field(min_length=1, max_length=128)


class RecordTask(_Task):
    action: Literal["record"]
    customer_id: str = Field(min_length=1, max_length=64)
    items: list[OrderLine] = Field(min_length=1)
    total_cents: int = Field(gt=0)
    payment_ref: str = Field(min_length=1, repr=False)
    flow: Flow = "orchestrated"


class ConfirmTask(_Task):
    action: Literal["confirm"]
    tax_cents: int | None = Field(default=None, ge=0)  # recorded when the saga's state carries it


class RejectTask(_Task):
    action: Literal["reject"]
    reason: str = Field(default="INTERNAL_ERROR", min_length=1, max_length=64)


AnyTask = RecordTask | ConfirmTask | RejectTask
TaskRequest = Annotated[AnyTask, Field(discriminator="action")]
_tasks_adapter: TypeAdapter[AnyTask] = TypeAdapter(TaskRequest)


class InvalidTaskError(ValueError):
    """The saga sent a payload outside the contract: a wiring bug, not a business outcome."""


def parse_task(event: Any) -> AnyTask:
    try:
        return _tasks_adapter.validate_python(event)
    except ValidationError as error:
        # Name the fields and what is wrong, never the values (refused input may hold anything).
        raise InvalidTaskError(f"invalid orders task payload: {without_values(error)}") from None


def run_task(task: AnyTask) -> dict[str, Any]:
    if isinstance(task, RecordTask):
        moment = utc_now()
        now = iso(moment)
        order = Order(
            **task.model_dump(exclude={"action"}),  # the order's facts, as the saga carries them
            status="PENDING",
            status_rank=0,
            created_at=now,
            updated_at=now,
            # An order the saga records itself (a re-run from a parked input) holds its lease too.
            deadline=iso(moment + timedelta(seconds=load(SagaTasksSettings).saga_lease_seconds)),
            undecided=undecided_shard(task.order_id),
        )
        return dependencies.saga_tasks().record(order)
    if isinstance(task, ConfirmTask):
        return dependencies.saga_tasks().confirm(task.order_id, task.tax_cents)
    return dependencies.saga_tasks().reject(task.order_id, task.reason)


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if isinstance(event, dict) and isinstance(event.get("correlation_id"), str):
        bind_correlation(logger, event["correlation_id"], event.get("order_id"))
    task = parse_task(event)
    logger.append_keys(action=task.action)
    result = run_task(task)
    logger.info("orders task done", extra={"result_status": result.get("status")})
    return result
