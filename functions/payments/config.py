"""Payments configuration (shared.config style): one model per kind of function."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.config import TABLE_NAME, Settings

DEFAULT_TAX_RATE_BPS = 825


class TasksSettings(Settings):
    """What payments-tasks needs (the saga's and the payment workflow's steps)."""

    payments_table: str = Field(alias="PAYMENTS_TABLE", pattern=TABLE_NAME)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    # basis points: 825 = 8.25 %
    tax_rate_bps: int = Field(alias="TAX_RATE_BPS", default=DEFAULT_TAX_RATE_BPS, ge=0, le=10_000)
    # The only built-in provider; a real adapter (Stripe, Adyen, ...) would add its name here.
    payment_provider: Literal["simulated"] = Field(alias="PAYMENT_PROVIDER", default="simulated")
    # The KMS key that opens payment references (decrypt); only payments-tasks is given it.
    payment_ref_key_id: str | None = Field(alias="PAYMENT_REF_KEY_ID", default=None, min_length=1)


class ConsumerSettings(TasksSettings):
    """payments-consumer also starts the payment workflow."""

    payment_workflow_arn: str = Field(alias="PAYMENT_WORKFLOW_ARN", min_length=1)
