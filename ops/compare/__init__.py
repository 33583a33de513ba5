"""`python -m ops.compare` (make compare): orchestration against choreography, in numbers.

A fixed, seeded workload (confirmed, out of stock, declined on both paths) runs through the local
REST API of a fresh, metered local cloud (local.meter). From what the meter counted per order it
writes docs/comparison.md: time to a decision measured locally and modeled for AWS (Monte Carlo
over the published per-hop latencies of docs/model/aws-2026.json plus the measured handler time
on the critical path), cost per million orders by service (counts x unit prices), Lambda
invocations on the critical path and in all, and the coupling between services read from the
template (IAM grants, rule patterns, state machine definitions).
"""

from __future__ import annotations

from ops.compare.constants import CHARTS, FAULTS, GENERATOR, MODEL, OUTCOMES, PATHS, SECTIONS, SERVICES
from ops.compare.run import compare, main
from ops.compare.sections import draw_charts

__all__ = [
    "CHARTS",
    "FAULTS",
    "GENERATOR",
    "MODEL",
    "OUTCOMES",
    "PATHS",
    "SECTIONS",
    "SERVICES",
    "compare",
    "draw_charts",
    "main",
]
