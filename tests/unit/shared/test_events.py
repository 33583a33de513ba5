"""The event contract in shared.events: envelopes, deterministic ids, strict parsing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.events import (
    EVENT_TYPES,
    OrderLine,
    OrderPlaced,
    PaymentFailed,
    UnknownEventError,
    event_id_for,
    new_event,
    parse_event,
    parse_eventbridge,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def order_placed(order_id: str = "ord-1") -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        customer_id="cus-1",
        items=[OrderLine(sku="SKU-A", quantity=2, unit_price_cents=500)],
        total_cents=1000,
        payment_ref="kms1:c2VhbGVk",
    )


def wire(data=None, **overrides):
    """An event as it crosses the bus: JSON out and back in."""
    envelope = new_event(data or order_placed(), correlation_id="corr-1", flow="choreographed", time=T0)
    event = {"source": envelope.source, "detail-type": envelope.detail_type, "detail": envelope.detail()}
    event.update(overrides)
    return json.loads(json.dumps(event))


def test_new_event_then_parse_event_round_trips():
    data = order_placed()
    envelope = new_event(data, correlation_id="corr-1", flow="choreographed", time=T0)

    parsed, typed = parse_event(envelope.source, envelope.detail_type, json.loads(json.dumps(envelope.detail())))

    assert parsed == envelope
    assert typed == data
    assert isinstance(typed, OrderPlaced)
    assert parsed.metadata.time == T0
    assert parsed.metadata.schema_version == "2.0"  # OrderPlaced's own version (payment_ref)
    assert (parsed.source, parsed.detail_type) == ("orderflow.orders", "OrderPlaced")


def test_event_ids_are_deterministic_per_order_and_type():
    first = new_event(order_placed(), correlation_id="a", flow="choreographed")
    retried = new_event(order_placed(), correlation_id="b", flow="orchestrated")

    assert first.metadata.event_id == retried.metadata.event_id == event_id_for("ord-1", "OrderPlaced")
    assert event_id_for("ord-1", "OrderPlaced") != event_id_for("ord-2", "OrderPlaced")
    assert event_id_for("ord-1", "OrderPlaced") != event_id_for("ord-1", "OrderConfirmed")
    # Pinned: changing the namespace or the recipe would make every consumer's dedup markers miss.
    assert event_id_for("ord-1", "OrderPlaced") == "6fb44d79-5778-5b8d-b8f5-e12a467f8aed"


@pytest.mark.parametrize("version", ["1.0", "3.0", "2.1"])
def test_a_wrong_schema_version_is_rejected(version):
    # 1.0 is OrderPlaced's retired contract (it carried the card token in clear).
    event = wire()
    event["detail"]["metadata"]["schema_version"] = version

    with pytest.raises(ValidationError, match="schema_version") as refused:
        parse_eventbridge(event)
    assert refused.value.errors()[0]["type"] == "literal_error"


def test_each_event_type_carries_its_own_schema_version():
    placed = new_event(order_placed(), correlation_id="c", flow="choreographed", time=T0)
    failed = new_event(
        PaymentFailed(order_id="ord-1", reason="PAYMENT_DECLINED"), correlation_id="c", flow="choreographed"
    )

    assert placed.detail()["metadata"]["schema_version"] == OrderPlaced.SCHEMA_VERSION == "2.0"
    assert failed.detail()["metadata"]["schema_version"] == PaymentFailed.SCHEMA_VERSION == "1.0"
    event = {"source": failed.source, "detail-type": failed.detail_type, "detail": failed.detail()}
    event["detail"]["metadata"]["schema_version"] = "2.0"  # OrderPlaced's version is not PaymentFailed's
    with pytest.raises(ValidationError, match="schema_version"):
        parse_eventbridge(json.loads(json.dumps(event, default=str)))


@pytest.mark.parametrize("block", ["metadata", "data"])
def test_a_missing_field_is_rejected(block):
    event = wire()
    field = "correlation_id" if block == "metadata" else "customer_id"
    del event["detail"][block][field]

    with pytest.raises(ValidationError, match=field):
        parse_eventbridge(event)


@pytest.mark.parametrize("block", ["metadata", "data"])
def test_an_extra_field_is_rejected(block):
    event = wire()
    event["detail"][block]["surprise"] = True

    with pytest.raises(ValidationError, match="surprise"):
        parse_eventbridge(event)


def test_an_invalid_value_is_rejected():
    event = wire()
    event["detail"]["data"]["items"][0]["quantity"] = 0

    with pytest.raises(ValidationError, match="quantity"):
        parse_eventbridge(event)


def test_an_unknown_detail_type_is_rejected():
    with pytest.raises(UnknownEventError, match="OrderShipped"):
        parse_eventbridge(wire(**{"detail-type": "OrderShipped"}))


def test_a_known_detail_type_from_the_wrong_source_is_rejected():
    with pytest.raises(UnknownEventError, match=r"orderflow\.payments/OrderPlaced"):
        parse_eventbridge(wire(source="orderflow.payments"))


def test_every_event_type_is_registered_under_its_own_detail_type():
    assert len(EVENT_TYPES) == 10
    for detail_type, model in EVENT_TYPES.items():
        assert detail_type == model.DETAIL_TYPE
        assert model.SOURCE.startswith("orderflow.")
    assert EVENT_TYPES["PaymentFailed"] is PaymentFailed
