"""Sales tax on integer cents."""

from __future__ import annotations

BPS_DENOMINATOR = 10_000


def tax_cents(amount_cents: int, rate_bps: int) -> int:
    """round-half-up(amount x rate / 10000), in integers so no float ever touches money."""
    if amount_cents < 0 or rate_bps < 0:
        raise ValueError("amount and rate must not be negative")
    return (amount_cents * rate_bps + BPS_DENOMINATOR // 2) // BPS_DENOMINATOR
