"""payments-tasks: the payment steps of the order saga and of the payment workflow.

Results are business outcomes (AUTHORIZED, DECLINED, CAPTURED, ...); technical failures
raise. ``PaymentProviderUnavailable`` leaves the handler under exactly that class name, which
is the Lambda errorType that the state machines' Retry matches. A decline never raises.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, assert_never

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from payments.data.provider import PaymentProviderUnavailable
from payments.dependencies import tasks_payments
from payments.handlers.models import (
    AnyTask,
    AuthorizeTask,
    CalculateTaxTask,
    CaptureTask,
    ChargeTask,
    FailTask,
    PaymentTask,
    RefundTask,
    SettleTask,
    VoidTask,
)
from payments.observability import entry, logger, record_outcome, record_provider_unavailable
from shared.observability import bind_correlation


@entry
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse(event=event, model=PaymentTask).root
    bind_correlation(logger, task.correlation_id, task.order_id)
    logger.append_keys(flow=task.flow, action=task.action)
    try:
        result = run(task, context)
    except PaymentProviderUnavailable:
        record_provider_unavailable()
        logger.warning("payment provider unavailable; the state machine retries")
        raise
    logger.info("payments task done", extra={"result_status": result.get("status")})
    return result


def run(task: AnyTask, context: LambdaContext | None = None) -> dict[str, Any]:
    payments = tasks_payments()
    match task:
        case ChargeTask():
            charged = payments.charge(
                task.order_id,
                task.amount_cents,
                task.payment_ref,
                task.correlation_id,
                task.flow,
                capture_by=_deadline(task.budget_ms),
            )
            record_outcome(charged.authorization)
            if charged.capture is not None:
                record_outcome(charged.capture)
            return charged.final.result()
        case AuthorizeTask():
            outcome = payments.authorize(
                task.order_id, task.amount_cents, task.tax_cents, task.payment_ref, task.correlation_id, task.flow
            )
        case CalculateTaxTask():
            return payments.calculate_tax(task.order_id, task.amount_cents).result()
        case CaptureTask():
            outcome = payments.capture(task.order_id, task.correlation_id, task.flow)
        case SettleTask():
            outcome = payments.settle(task.order_id, task.correlation_id, task.flow)
        case RefundTask():
            outcome = payments.refund(task.order_id, task.correlation_id, task.flow)
        case VoidTask():
            outcome = payments.void(task.order_id, task.correlation_id, task.flow)
        case FailTask():
            outcome = payments.fail(task.order_id, task.reason, task.correlation_id, task.flow)
        case _:
            assert_never(task)
    record_outcome(outcome)
    return outcome.result()


def _deadline(budget_ms: int | None) -> Callable[[], bool] | None:
    """Whether the caller still listens: within ``budget_ms`` of this invocation's start."""
    if budget_ms is None:
        return None
    until = time.monotonic() + budget_ms / 1000
    return lambda: time.monotonic() < until
