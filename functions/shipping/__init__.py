"""Shipping: schedules exactly one shipment for each confirmed order, whichever flow confirmed it."""
