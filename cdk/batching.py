"""Which event consumers wait for a batch, and for how long (docs/decisions.md, "Pollers and
batching windows"); a test stack may shorten the wait."""

from __future__ import annotations

from aws_cdk import Duration
from constructs import Construct

# Consumers off every decision's critical path wait for a batch (docs/decisions.md, "Pollers and
# batching windows"): (batch size, window). The others take each message as soon as it arrives.
BATCHING = {
    ("orders", "timeline"): (100, Duration.seconds(2)),
    ("shipping", "consumer"): (10, Duration.seconds(2)),
    ("notifications", "consumer"): (10, Duration.seconds(2)),
}
# A test stack may shorten the batching windows above (context `orderflow:batchingWindowSeconds`,
# whole seconds as Lambda takes them, 0 to 300): a message a test waits for, or a retried one,
# then waits that long at most for its batch to fill, not 2 s per receive.
BATCHING_WINDOW_CONTEXT = "orderflow:batchingWindowSeconds"


def consumer_batching_window(scope: Construct, default: Duration | None) -> Duration | None:
    value = scope.node.try_get_context(BATCHING_WINDOW_CONTEXT)
    if value is None or default is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit() or int(value) > 300:
        raise ValueError(f"{BATCHING_WINDOW_CONTEXT} must be whole seconds from 0 to 300: {value!r}")
    return Duration.seconds(int(value))
