"""The choreographed flow's entry: start the payment workflow for an order, once."""

from __future__ import annotations

from payments.data.repository import WorkflowStarter
from payments.domain.models import (
    WorkflowRequest,
)
from payments.logic.common import (
    SERVICE,
)
from payments.observability import logger
from shared import faults


class PaymentWorkflow:
    """Starts the payments bounded context's own workflow for a choreographed order."""

    def __init__(self, starter: WorkflowStarter) -> None:
        self._starter = starter

    @faults.injectable(SERVICE, "start_workflow")
    def start(self, request: WorkflowRequest) -> bool:
        """True if this call started it; False if it was already started (a redelivered event)."""
        started = self._starter.start(request.order_id, request.execution_input())
        logger.info("payment workflow started" if started else "payment workflow already started")
        return started
