"""The only place payments' adapters are built (once per cold start; shared.dependencies.reset())."""

from __future__ import annotations

from payments.config import ConsumerSettings, TasksSettings
from payments.data.dynamodb import DynamoPaymentRepository, DynamoSimulatorLedger
from payments.data.provider import PaymentProvider
from payments.data.simulated_provider import SimulatedCardProcessor
from payments.data.stepfunctions import StepFunctionsWorkflowStarter
from payments.logic import Payments, PaymentWorkflow
from shared.config import load
from shared.dependencies import dependency
from shared.payment_ref import KmsPaymentRefs
from shared.publisher import EventPublisher


def build_provider(settings: TasksSettings) -> PaymentProvider:
    """The one place a provider is chosen (a real adapter would be selected here)."""
    if settings.payment_provider == "simulated":
        return SimulatedCardProcessor(DynamoSimulatorLedger(settings.payments_table))
    raise ValueError(f"unknown payment provider {settings.payment_provider!r}")


def _payments(settings: TasksSettings) -> Payments:
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
    return PaymentWorkflow(StepFunctionsWorkflowStarter(load(ConsumerSettings).payment_workflow_arn))
