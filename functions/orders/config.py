"""Orders configuration (shared.config style): one model per function, each with only the
variables its role needs (docs/architecture.md)."""

from __future__ import annotations

from pydantic import Field

from shared.config import STATE_MACHINE_ARN, TABLE_NAME, Settings


class ApiSettings(Settings):
    orders_table: str = Field(alias="ORDERS_TABLE", pattern=TABLE_NAME)
    order_events_table: str = Field(alias="ORDER_EVENTS_TABLE", pattern=TABLE_NAME)
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE", pattern=TABLE_NAME)
    inventory_table: str = Field(alias="INVENTORY_TABLE", pattern=TABLE_NAME)
    # The KMS key that seals card tokens into payment references (encrypt only).
    payment_ref_key_id: str = Field(alias="PAYMENT_REF_KEY_ID", min_length=1, max_length=2048)
    saga_state_machine_arn: str = Field(alias="SAGA_STATE_MACHINE_ARN", pattern=STATE_MACHINE_ARN)
    # API Gateway gives up after 29 s; stop waiting for the saga before that so we can still answer.
    saga_timeout_seconds: float = Field(alias="SAGA_TIMEOUT_SECONDS", default=25.0, gt=0, le=300)
    # How long one saga execution holds an order (the state machine's timeout plus a margin):
    # no second execution starts for the order before it runs out.
    saga_lease_seconds: int = Field(alias="SAGA_LEASE_SECONDS", default=270, gt=0, le=86_400)
    # How long a choreographed order may stay undecided before the reconciler rejects it.
    choreography_deadline_seconds: int = Field(alias="CHOREOGRAPHY_DEADLINE_SECONDS", default=1800, gt=0)
    idempotency_ttl_seconds: int = Field(alias="IDEMPOTENCY_TTL_SECONDS", default=86_400, ge=60)


class SagaTasksSettings(Settings):
    orders_table: str = Field(alias="ORDERS_TABLE", pattern=TABLE_NAME)
    saga_lease_seconds: int = Field(alias="SAGA_LEASE_SECONDS", default=270, gt=0, le=86_400)


class ReconcilerSettings(Settings):
    orders_table: str = Field(alias="ORDERS_TABLE", pattern=TABLE_NAME)
    saga_state_machine_arn: str = Field(alias="SAGA_STATE_MACHINE_ARN", pattern=STATE_MACHINE_ARN)


class RelaySettings(Settings):
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1, max_length=1600)


class ProjectorSettings(Settings):
    orders_table: str = Field(alias="ORDERS_TABLE", pattern=TABLE_NAME)


class TimelineSettings(Settings):
    order_events_table: str = Field(alias="ORDER_EVENTS_TABLE", pattern=TABLE_NAME)
