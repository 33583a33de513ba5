"""Payments business logic: the steps of the saga and of the payment workflow.

Each step reads the order's PAY# record and moves it forward with a conditional write:
AUTHORIZED -> CAPTURED -> REFUNDED, AUTHORIZED -> VOIDED, AUTHORIZED -> REFUNDED (a lost
capture given back), or DECLINED / FAILED. VOIDED, REFUNDED, DECLINED and FAILED are final:
every step answers a final payment with its final status and never moves it back, whoever
replays it (a saga retry, a redriven workflow, a duplicate event, two runs at once). A retried
step finds the record already moved, returns the result it produced the first time and
re-announces its event (the event id is deterministic). The provider is called with
idempotency keys derived from the order (``authorize:<order_id>``, ``capture:<order_id>``,
``refund:<order_id>``), so a retry after a lost response never charges twice, and
compensation can ask the provider what it did under a key whose answer never reached the
PAY# record.

Step contract (payments-tasks): ``calculate_tax`` is pure and runs first; ``authorize`` holds
amount + tax and stores both; ``capture`` charges exactly what was authorized. ``charge`` runs the
three in one invocation (the saga's and the payment workflow's one payment step): each stays its
own idempotent step, injectable on its own, so a retried charge replays what already landed.

The card token reaches payments only as a payment reference (``shared.payment_ref``): authorize
opens it for its own order just before calling the processor, and nothing else ever sees it. A
reference that does not open for the order is a decline (``invalid_payment_ref``), never a retry.
"""

from __future__ import annotations

from payments.logic.charging import Charging
from payments.logic.common import INVALID_PAYMENT_REF, PaymentRefOpener, utc_now
from payments.logic.compensation import Compensation
from payments.logic.workflow import PaymentWorkflow


class Payments(Charging, Compensation):
    """Every payments step: the forward ones (charging.py) and the compensating ones (compensation.py)."""


__all__ = ["INVALID_PAYMENT_REF", "PaymentRefOpener", "PaymentWorkflow", "Payments", "utc_now"]
