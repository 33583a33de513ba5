"""What notifications sends and records."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict


class Notification(BaseModel):
    """The customer notification published to the topic.

    Built from an explicit allow-list of fields, never from the event's data as a whole, so
    nothing sensitive (payment tokens above all) can reach subscribers by accident.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    order_id: str
    # Delivery is at least once: subscribers deduplicate on the id of the event behind it.
    event_id: str
    text: str


class OutcomeRecord(BaseModel):
    """One outcome event, as counted in analytics."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    detail_type: str
    order_id: str
    day: date
    confirmed_cents: int | None = None


class RecordResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    first_time: bool
    notified: bool
