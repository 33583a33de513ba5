"""Payments: authorize, tax, capture, refund and void through a provider adapter."""
