"""What a comparison run is made of: its paths, outcomes, sections, files and fault cases."""

from __future__ import annotations

from pathlib import Path

GENERATOR = "ops.compare 4"


ROOT = Path(__file__).resolve().parents[2]


MODEL = ROOT / "docs" / "model" / "aws-2026.json"


# The figures before issue 10's changes, shown beside the run's own.
BASELINE = ROOT / "docs" / "model" / "baseline-2026-12-02.json"


OUTPUT = ROOT / "docs" / "comparison.md"


PATHS = ("orchestrated", "choreographed")


OUTCOMES = ("confirmed", "out of stock", "declined")


SERVICES = ("Lambda", "Step Functions", "EventBridge", "SQS", "DynamoDB", "API Gateway", "Logs", "KMS", "SNS")


SECTIONS = (
    "## Workload",
    "## Before and after",
    "## Time to a decision",
    "## Cost per million orders",
    "## Lambda invocations",
    "## Functions",
    "## Counts per order",
    "## Coupling",
    "## Visibility",
    "## Reliability",
    "## Complexity",
    "## How it is computed",
)


MONTE_CARLO_SAMPLES = 200


# Drawn beside the document (docs/), linked from it; `make compare` writes them, the test does not.
CHARTS = {"cost": "comparison-cost.png", "latency": "comparison-latency.png"}


# The fault documents of shared/faults.py that the local cloud reads from its FaultInjection parameter.
FAULTS = {
    "payment outage": {"payments.authorize": {"outage": True}},
    "shipping outage": {"shipping.*": {"outage": True}},
}


# Timeline events that undo or refuse what an earlier step did: the order's compensation, as recorded.
UNDOING = ("PaymentFailed", "InventoryReleased", "PaymentRefunded", "OrderRejected")


FAULT_ORDERS = 3  # per path and fault
