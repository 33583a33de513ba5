"""Payments domain: the payment record's states, tax, and outcomes; no I/O."""
