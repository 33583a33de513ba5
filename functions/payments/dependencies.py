"""The only place payments' adapters are built (once per cold start; shared.dependencies.reset()).

Each factory imports its own adapters: boto3 arrives with the first one, not with the handler module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from payments.config import ConsumerSettings, TasksSettings
from shared.config import load
from shared.dependencies import dependency

if TYPE_CHECKING:
    from payments.data.provider import PaymentProvider
    from payments.logic import Payments, PaymentWorkflow


def build_provider(settings: TasksSettings) -> PaymentProvider:
    """The one place a provider is chosen (a real adapter would be selected here)."""
    if settings.payment_provider == "simulated":
        from payments.data.dynamodb import DynamoSimulatorLedger
        from payments.data.simulated_provider import SimulatedCardProcessor

        return SimulatedCardProcessor(DynamoSimulatorLedger(settings.payments_table))
    raise ValueError(f"unknown payment provider {settings.payment_provider!r}")


def _payments(settings: TasksSettings) -> Payments:
    from payments.data.dynamodb import DynamoPaymentRepository
    from payments.logic import Payments
    from shared.payment_ref import KmsPaymentRefs
    from shared.publisher import EventPublisher

    return Payments(
        DynamoPaymentRepository(settings.payments_table),
        build_provider(settings),
        EventPublisher(settings.event_bus_name),
        settings.tax_rate_bps,
        # without a key (payments-consumer) authorize refuses: it cannot open references
        payment_refs=KmsPaymentRefs(settings.payment_ref_key_id) if settings.payment_ref_key_id else None,
    )


@dependency
def tasks_payments() -> Payments:
    return _payments(load(TasksSettings))


@dependency
def consumer_payments() -> Payments:
    return _payments(load(ConsumerSettings))


@dependency
def payment_workflow() -> PaymentWorkflow:
    from payments.data.stepfunctions import StepFunctionsWorkflowStarter
    from payments.logic import PaymentWorkflow

    return PaymentWorkflow(StepFunctionsWorkflowStarter(load(ConsumerSettings).payment_workflow_arn))
