"""What the shipping logic needs from storage."""

from __future__ import annotations

from abc import ABC, abstractmethod

from shipping.domain.models import Shipment


class ShipmentRepository(ABC):
    @abstractmethod
    def create_if_absent(self, shipment: Shipment) -> tuple[Shipment, bool]:
        """Store ``shipment`` unless the order already has one.

        Returns the stored shipment (the existing one on a duplicate) and whether it was created now.
        """
