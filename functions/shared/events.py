"""The orderflow event contract.

Every event on the bus is ``{"metadata": EventMetadata, "data": <model>}`` in EventBridge's
``detail``; ``source`` names the producing service and ``detail-type`` the past-tense fact.
Each event type is versioned on its own: its model's ``SCHEMA_VERSION`` is what producers put in
``metadata.schema_version`` and the only version consumers accept. A breaking change to one event
(a field removed or renamed, a type narrowed) bumps that event's major version; the JSON Schemas
under ``docs/events/schemas`` are generated from these models (``python -m shared.schemas``), one
file per event and major, and older majors stay published while consumers migrate.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

Flow = Literal["orchestrated", "choreographed"]
# The first version of every event type; an event bumps its own SCHEMA_VERSION on a breaking change.
SCHEMA_VERSION: Literal["1.0"] = "1.0"
# Event ids are derived from (order, event type): a retried producer emits the same id,
# so every consumer can recognise a duplicate without coordination.
_EVENT_NAMESPACE = uuid.UUID("6f2b8f3e-8c1e-4d0a-9a57-3f6c1b9a2d10")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The envelope's metadata; ``metadata_model`` pins ``schema_version`` to one event's version.
class EventMetadata(_Strict):
    event_id: str
    correlation_id: str
    order_id: str
    flow: Flow
    schema_version: str = Field(default=SCHEMA_VERSION, pattern=r"^[0-9]+\.[0-9]+$")
    time: datetime


@cache
def metadata_model(schema_version: str) -> type[EventMetadata]:
    """EventMetadata accepting exactly `schema_version` (a literal, as the published schemas say)."""
    pinned: type[EventMetadata] = create_model(
        "EventMetadata",
        __base__=EventMetadata,
        __module__=__name__,
        schema_version=(Literal[schema_version], schema_version),  # type: ignore[arg-type]
    )
    return pinned


def schema_major(schema_version: str) -> str:
    return schema_version.split(".", 1)[0]


class OrderLine(_Strict):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1)
    unit_price_cents: int = Field(gt=0)


class EventData(_Strict):
    """Base of every event's data. An event's detail-type is its class name (unless it sets
    DETAIL_TYPE), its SOURCE comes from its service's base below, and it sets SCHEMA_VERSION once
    its contract has had a breaking change."""

    SOURCE: ClassVar[str]
    DETAIL_TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[str] = SCHEMA_VERSION
    order_id: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "DETAIL_TYPE" not in vars(cls):
            cls.DETAIL_TYPE = cls.__name__


class _OrdersEvent(EventData):
    SOURCE: ClassVar[str] = "orderflow.orders"


class _InventoryEvent(EventData):
    SOURCE: ClassVar[str] = "orderflow.inventory"


class _PaymentsEvent(EventData):
    SOURCE: ClassVar[str] = "orderflow.payments"


class _OrderContents(EventData):
    """The order itself, as the events that carry it (placed, reserved, confirmed) spell it."""

    customer_id: str
    items: list[OrderLine]
    total_cents: int


class _OrderToCharge(_OrderContents):
    # 2.0: payment_token (the card token, in clear) became payment_ref (shared.payment_ref).
    SCHEMA_VERSION: ClassVar[str] = "2.0"
    # An opaque reference to the card token that only payments can open, for this order only
    # (event-carried state: payments needs the amount and the payment reference to charge).
    payment_ref: str = Field(min_length=1)


class OrderPlaced(_OrderToCharge, _OrdersEvent):
    total_cents: int = Field(gt=0)


class OrderConfirmed(_OrderContents, _OrdersEvent):
    pass  # the order as confirmed: what shipping ships and notifications count


class OrderRejected(_OrdersEvent):
    customer_id: str
    reason: str


class InventoryReserved(_OrderToCharge, _InventoryEvent):
    pass  # every line reserved: payments charges the order next


class InventoryRejected(_InventoryEvent):
    reason: Literal["OUT_OF_STOCK", "UNKNOWN_SKU", "ALREADY_RELEASED"]
    sku: str | None = None


class InventoryReleased(_InventoryEvent):
    items: list[OrderLine]


class PaymentCompleted(_PaymentsEvent):
    amount_cents: int
    tax_cents: int
    capture_id: str


class PaymentFailed(_PaymentsEvent):
    reason: Literal["PAYMENT_DECLINED", "PAYMENT_UNAVAILABLE"]


class PaymentRefunded(_PaymentsEvent):
    amount_cents: int
    refund_id: str


class ShipmentScheduled(EventData):
    SOURCE: ClassVar[str] = "orderflow.shipping"
    shipment_id: str


EVENT_TYPES: dict[str, type[EventData]] = {
    model.DETAIL_TYPE: model
    for model in (
        OrderPlaced,
        OrderConfirmed,
        OrderRejected,
        InventoryReserved,
        InventoryRejected,
        InventoryReleased,
        PaymentCompleted,
        PaymentFailed,
        PaymentRefunded,
        ShipmentScheduled,
    )
}


class Envelope(_Strict):
    """An event as it travels: EventBridge's source/detail-type plus our detail."""

    source: str
    detail_type: str
    metadata: EventMetadata
    data: dict[str, Any]

    def detail(self) -> dict[str, Any]:
        return {"metadata": self.metadata.model_dump(mode="json"), "data": self.data}

    def typed_data(self) -> EventData:
        return EVENT_TYPES[self.detail_type].model_validate(self.data)


class UnknownEventError(ValueError):
    """The event's detail-type is not part of the contract."""


def event_id_for(order_id: str, detail_type: str) -> str:
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{order_id}:{detail_type}"))


def new_event(data: EventData, *, correlation_id: str, flow: Flow, time: datetime | None = None) -> Envelope:
    """Wrap data in the envelope. Pass the time of the fact (e.g. when the reservation was
    made) so that a re-announcement is identical to the first one, not just the same id."""
    metadata = metadata_model(data.SCHEMA_VERSION)(
        event_id=event_id_for(data.order_id, data.DETAIL_TYPE),
        correlation_id=correlation_id,
        order_id=data.order_id,
        flow=flow,
        time=time or datetime.now(UTC),
    )
    return Envelope(
        source=data.SOURCE,
        detail_type=data.DETAIL_TYPE,
        metadata=metadata,
        data=data.model_dump(mode="json"),
    )


def parse_event(source: str, detail_type: str, detail: dict[str, Any]) -> tuple[Envelope, EventData]:
    """Validate an EventBridge event against the contract; raises on any mismatch.

    Raises UnknownEventError for a detail-type outside the contract and
    pydantic.ValidationError for a wrong schema version, missing or extra fields.
    """
    model = EVENT_TYPES.get(detail_type)
    if model is None or source != model.SOURCE:
        raise UnknownEventError(f"unknown event {source}/{detail_type}")
    if not isinstance(detail, dict):
        raise TypeError(f"detail of {detail_type} is {type(detail).__name__}, not an object")
    envelope = Envelope(
        source=source,
        detail_type=detail_type,
        metadata=metadata_model(model.SCHEMA_VERSION).model_validate(detail.get("metadata")),
        data=detail.get("data") or {},
    )
    data = model.model_validate(envelope.data)
    if data.order_id != envelope.metadata.order_id:
        raise ValueError(f"metadata.order_id {envelope.metadata.order_id!r} != data.order_id {data.order_id!r}")
    return envelope, data


def parse_eventbridge(event: dict[str, Any]) -> tuple[Envelope, EventData]:
    """Parse a full EventBridge event (as delivered in an SQS message body)."""
    return parse_event(event["source"], event["detail-type"], event["detail"])
