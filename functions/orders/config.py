"""Per-function configuration, read from the environment and validated once per cold start.

Each function gets only the variables its role needs (docs/architecture.md), so each has its
own model. ``get_config`` caches per model: tests set the environment first, then call it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field

_TABLE_NAME = r"^[A-Za-z0-9_.-]{3,255}$"


class _FromEnvironment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> _FromEnvironment:
        return cls.model_validate(dict(os.environ if environ is None else environ))


class ApiConfig(_FromEnvironment):
    orders_table: str = Field(alias="ORDERS_TABLE", pattern=_TABLE_NAME)
    order_events_table: str = Field(alias="ORDER_EVENTS_TABLE", pattern=_TABLE_NAME)
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", pattern=_TABLE_NAME)
    inventory_table: str = Field(alias="INVENTORY_TABLE", pattern=_TABLE_NAME)
    # The KMS key that seals card tokens into payment references (encrypt only).
    payment_ref_key_id: str = Field(alias="PAYMENT_REF_KEY_ID", min_length=1, max_length=2048)
    saga_state_machine_arn: str = Field(alias="SAGA_STATE_MACHINE_ARN", pattern=r"^arn:aws[a-z-]*:states:")
    # API Gateway gives up after 29 s; stop waiting for the saga before that so we can still answer.
    saga_timeout_seconds: float = Field(alias="SAGA_TIMEOUT_SECONDS", default=25.0, gt=0, le=300)
    # How long one saga execution holds an order (the state machine's timeout plus a margin):
    # no second execution starts for the order before it runs out.
    saga_lease_seconds: int = Field(alias="SAGA_LEASE_SECONDS", default=270, gt=0, le=86_400)
    # How long a choreographed order may stay undecided before the reconciler rejects it.
    choreography_deadline_seconds: int = Field(alias="CHOREOGRAPHY_DEADLINE_SECONDS", default=1800, gt=0)
    idempotency_ttl_seconds: int = Field(alias="IDEMPOTENCY_TTL_SECONDS", default=86_400, ge=60)


class SagaTasksConfig(_FromEnvironment):
    orders_table: str = Field(alias="ORDERS_TABLE", pattern=_TABLE_NAME)
    saga_lease_seconds: int = Field(alias="SAGA_LEASE_SECONDS", default=270, gt=0, le=86_400)


class ReconcilerConfig(_FromEnvironment):
    orders_table: str = Field(alias="ORDERS_TABLE", pattern=_TABLE_NAME)
    saga_state_machine_arn: str = Field(alias="SAGA_STATE_MACHINE_ARN", pattern=r"^arn:aws[a-z-]*:states:")


class RelayConfig(_FromEnvironment):
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1, max_length=1600)


class ProjectorConfig(_FromEnvironment):
    orders_table: str = Field(alias="ORDERS_TABLE", pattern=_TABLE_NAME)


class TimelineConfig(_FromEnvironment):
    order_events_table: str = Field(alias="ORDER_EVENTS_TABLE", pattern=_TABLE_NAME)


ConfigT = TypeVar("ConfigT", bound=_FromEnvironment)
_loaded: dict[type[_FromEnvironment], _FromEnvironment] = {}


def get_config(model: type[ConfigT]) -> ConfigT:
    """The function's configuration; raises pydantic.ValidationError naming any bad variable."""
    if model not in _loaded:
        _loaded[model] = model.from_environment()
    return _loaded[model]  # type: ignore[return-value]


def reset_config() -> None:
    """Forget loaded configuration (tests change the environment between cases)."""
    _loaded.clear()
