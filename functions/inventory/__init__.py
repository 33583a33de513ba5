"""Inventory: stock per SKU and all-or-nothing reservations of an order's lines."""
