"""Tax is round-half-up(amount x bps / 10000) in integer cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from payments.domain.tax import tax_cents


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [
        (1000, 825, 83),  # 82.5 rounds up
        (999, 825, 82),  # 82.4175
        (20, 825, 2),  # 1.65
        (6, 825, 0),  # 0.495
        (1, 825, 0),
        (1000, 0, 0),
        (12345, 10_000, 12345),
    ],
)
def test_known_values(amount, bps, expected):
    assert tax_cents(amount, bps) == expected


@settings(max_examples=50)
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10_000))
def test_matches_decimal_round_half_up(amount, bps):
    exact = Decimal(amount) * Decimal(bps) / Decimal(10_000)
    assert tax_cents(amount, bps) == int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_negative_inputs_are_refused():
    with pytest.raises(ValueError):
        tax_cents(-1, 825)
