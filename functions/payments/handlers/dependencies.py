"""Builds logic with its adapters once per cold start (and again after ``reset()`` in tests)."""

from __future__ import annotations

from functools import cache

from payments.config import TasksSettings, consumer_settings, tasks_settings
from payments.data.dynamodb import DynamoPaymentRepository, DynamoSimulatorLedger
from payments.data.stepfunctions import StepFunctionsWorkflowStarter
from payments.logic import Payments, PaymentWorkflow
from payments.providers.base import PaymentProvider
from payments.providers.simulated import SimulatedCardProcessor
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


@cache
def tasks_payments() -> Payments:
    return _payments(tasks_settings())


@cache
def consumer_payments() -> Payments:
    return _payments(consumer_settings())


@cache
def payment_workflow() -> PaymentWorkflow:
    return PaymentWorkflow(StepFunctionsWorkflowStarter(consumer_settings().payment_workflow_arn))


def reset() -> None:
    """Forget settings and clients so the next invocation re-reads the environment."""
    for cached in (tasks_payments, consumer_payments, payment_workflow, tasks_settings, consumer_settings):
        cached.cache_clear()
