"""Payments configuration: a pydantic model validated from the environment at cold start.

Settings are built lazily and cached, so a test can set the environment first and call
``cache_clear()`` to re-read it; logic never reads ``os.environ`` itself.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_TAX_RATE_BPS = 825


class TasksSettings(BaseModel):
    """What payments-tasks needs (the saga's and the payment workflow's steps)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    payments_table: str = Field(alias="PAYMENTS_TABLE", min_length=1)
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


@cache
def tasks_settings() -> TasksSettings:
    return TasksSettings.model_validate(dict(os.environ))


@cache
def consumer_settings() -> ConsumerSettings:
    return ConsumerSettings.model_validate(dict(os.environ))
