"""Names and ids moto works out on every request: remembered where the answer depends only on the
name, drawn faster where it is random (same characters, same seeded generator)."""

from __future__ import annotations

import functools
from typing import Any


def cache_name_conversion() -> None:
    """moto's `camelcase_to_underscores`, remembered per name (a pure function of its argument):
    in moto.core.utils, so every moto module imported from now on gets it, and in each one
    imported already. Every SQS GetQueueAttributes and SendMessage converts each of the queue's
    twenty attribute names, and every request its action's name. Installed process-wide and
    idempotent: the unit tests' `mock_aws` gets it too (tests/conftest.py)."""
    import sys

    from moto.core import utils

    original = utils.camelcase_to_underscores
    if getattr(original, "_local_cached", False):
        return
    cached = functools.lru_cache(maxsize=4096)(original)
    cached._local_cached = True  # type: ignore[attr-defined]
    for name, module in list(sys.modules.items()):
        if name.startswith("moto") and getattr(module, "camelcase_to_underscores", None) is original:
            module.camelcase_to_underscores = cached  # type: ignore[attr-defined]


def cheap_names_and_ids() -> None:
    """Two things moto does several times per request, profiled at 4-5 % of the runner's CPU each.

    Every request turns its action's name into a method name, and every SQS message sent builds
    all of its queue's attributes, each name converted the same way: `camelcase_to_underscores`
    walks the string character by character each time, for the same few hundred names. Its answer
    depends only on the name, so it is remembered (`cache_name_conversion`).

    Every answer carries a 52-character request id, and every SQS message received a 185-letter
    receipt handle: moto draws each character with `random.choice`. The same characters, drawn
    with `choices` from the same seeded generator (so a seeded run stays repeatable): a third of
    the cost.
    """
    from moto.moto_api._internal.moto_random import HEX_CHARS, MotoRandom

    cache_name_conversion()

    import string

    def get_random_string(self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
        pool = string.ascii_letters + (string.digits if include_digits else "")
        drawn = "".join(self.choices(pool, k=length))
        return drawn.lower() if lower_case else drawn

    def get_random_hex(self: Any, length: int = 8) -> str:
        return "".join(str(char) for char in self.choices(HEX_CHARS, k=length))

    MotoRandom.get_random_string = get_random_string  # type: ignore[method-assign]
    MotoRandom.get_random_hex = get_random_hex  # type: ignore[method-assign]

    # SQS receipt handles: 185 lowercase letters per message received, one choice() each.
    from moto.moto_api._internal import mock_random
    from moto.sqs import models as sqs_models
    from moto.sqs import utils as sqs_utils

    def generate_receipt_handle() -> str:
        return "".join(mock_random.choices(string.ascii_lowercase, k=185))

    sqs_utils.generate_receipt_handle = generate_receipt_handle
    sqs_models.generate_receipt_handle = generate_receipt_handle
