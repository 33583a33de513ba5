"""Scheduling shipments: one per confirmed order, announced on every attempt."""

from __future__ import annotations

from datetime import UTC, datetime

from shared import faults
from shared.events import EventMetadata, OrderConfirmed, ShipmentScheduled, new_event
from shared.observability import count
from shared.publisher import EventSink
from shipping.data.repository import ShipmentRepository
from shipping.domain.models import SCHEDULED, Shipment, ShipmentLine, shipment_id_for
from shipping.observability import logger, metrics, tracer


@tracer.capture_method(capture_response=False)
@faults.injectable("shipping", "schedule")
def schedule_shipment(
    order: OrderConfirmed, metadata: EventMetadata, *, repository: ShipmentRepository, publisher: EventSink
) -> Shipment:
    """Create the order's shipment if it has none, then announce ShipmentScheduled.

    The announcement is repeated when the shipment already existed: the earlier attempt may
    have stored it and then failed to publish. The event id is deterministic and the event's
    time is the shipment's creation time, so a repeat is an exact duplicate consumers drop.
    """
    candidate = Shipment(
        order_id=order.order_id,
        shipment_id=shipment_id_for(order.order_id),
        status=SCHEDULED,
        created_at=datetime.now(UTC),
        items=[ShipmentLine(sku=line.sku, quantity=line.quantity) for line in order.items],
        correlation_id=metadata.correlation_id,
    )
    shipment, created = repository.create_if_absent(candidate)
    if created:
        count(metrics, "ShipmentScheduled")
        logger.info("shipment scheduled", extra={"shipment_id": shipment.shipment_id})
    else:
        logger.info("shipment already scheduled; announcing again", extra={"shipment_id": shipment.shipment_id})

    event = new_event(
        ShipmentScheduled(order_id=shipment.order_id, shipment_id=shipment.shipment_id),
        correlation_id=metadata.correlation_id,
        flow=metadata.flow,
        time=shipment.created_at,
    )
    publisher.publish([event])
    return shipment
