"""The document's visibility, reliability and complexity tables, and its charts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ops.compare.constants import CHARTS, FAULT_ORDERS, SERVICES, UNDOING


def draw_charts(results: dict[str, Any], directory: Path) -> list[Path]:
    """The cost per path by service (stacked bars, us-east-1) and the AWS-modeled time to a decision per
    path and outcome (box plots of the Monte Carlo draws), as PNG files in `directory`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "svg.hashsalt": "orderflow"})
    written = []
    labels = [f"{row['path']}\n{row['outcome']}" for row in results["rows"]]
    costs = results["costs"]["us-east-1"]
    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=100)
    bottom = [0.0] * len(costs)
    for service in SERVICES:
        heights = [row["services"][service] for row in costs]
        axes.bar(labels, heights, bottom=bottom, label=service)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    for x, total in enumerate(bottom):
        axes.text(x, total + 0.5, f"${total:.2f}", ha="center")
    axes.axhline(20, color="black", linestyle="--", linewidth=0.8)
    axes.axhline(25, color="grey", linestyle=":", linewidth=0.8)
    axes.set_ylabel("$ per million orders (us-east-1, modeled)")
    axes.set_title("Cost per million orders by service (goals: \\$20 orchestrated, \\$25 choreographed)")
    axes.legend(fontsize=8, ncols=4, loc="upper left")
    axes.set_ylim(0, max(bottom) * 1.3)
    figure.tight_layout()
    written.append(directory / CHARTS["cost"])
    figure.savefig(written[-1], metadata={"Software": None})
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(9, 4.5), dpi=100)
    axes.boxplot(
        [row["aws_samples"] or [0.0] for row in results["rows"]],
        tick_labels=labels,
        whis=(1, 99),
        showfliers=False,
    )
    axes.axhline(400, color="black", linestyle="--", linewidth=0.8)
    axes.set_ylabel("ms, API request to decision (AWS-modeled)")
    axes.set_title("Time to a decision: box p25-p75, median, whiskers p1-p99 (goal: orchestrated p50 400 ms)")
    figure.tight_layout()
    written.append(directory / CHARTS["latency"])
    figure.savefig(written[-1], metadata={"Software": None})
    plt.close(figure)
    return written


VISIBILITY = """\
What an operator reads to explain one order. Both paths: the order (`GET /orders/{id}`: status,
reason, deadline) and its timeline (`GET /orders/{id}/timeline`: every event any service
published about it, oldest first, with its source and correlation id). Then the logs of each
function that handled it (one log group each; every line carries the correlation id) and, for
a workflow, its own log group: both workflows are Express, which keep no execution history in
Step Functions (decision 15), so a saga's states, inputs and errors are read from its log
group, where a Standard execution's history would show them in the console."""

VISIBILITY_AFTER = """\
Counted by the meter per order: the functions that handled it (the consumers after the
decision included) and the workflows that ran for it.

| path | what the timeline shows | what the workflow's log shows |
|---|---|---|
| orchestrated | the same events as a choreographed order's (every service announces its \
outcomes whichever path placed the order): what each step did, once it did it; not the saga's \
order of steps, its retries, timeouts or a step that failed without an outcome \
| every step of the saga (ReadOrder, ReserveInventory, ChargePayment, ConfirmOrder or the \
compensation) with its input, output, retries and errors |
| choreographed | every step, since the events are the steps: OrderPlaced, InventoryReserved or \
InventoryRejected, PaymentCompleted or PaymentFailed, the outcome, the release, the shipment; \
a message being retried or parked shows only as a missing next event (its queue and \
dead-letter queue say why) | the payment workflow only (ChargePayment, its retries and its \
failure path) |"""

RELIABILITY = """\
Measured: {orders} orders per path that would be confirmed (stock, `tok_visa`), placed while a
fault document of `shared/faults.py` holds on the local cloud, read once nothing moves any more;
then the fault is switched off. Payment outage: `payments.authorize` down (the card processor:
every authorization raises ServiceOutage; the rest of payments works, so it can compensate).
Shipping outage: `shipping.*` down, after the decision; its messages are retried, then parked
in the dead-letter queue for `make redrive` (failed messages come back after 0.2 s here, not
after the visibility timeout). Time to a decision as in "Time to a decision" (local, this
machine; the workflows' retries wait as the template says). Compensation: the timeline's events
that refuse or undo an earlier step ({undoing})."""

COMPLEXITY = """\
What each path adds to what both share, read from the synthesized template (resources under
the path's constructs, IAM roles and policies and event source mappings included; queues
include their dead-letter queues; states counted in the definitions) and from its files
(lines that are neither blank nor comments). payments-tasks serves both paths."""


def section(title: str, intro: str, columns: str | None = None, align: str = "") -> list[str]:
    """A section's heading, its introduction and, given `columns` ("a | b | c"), a table's header;
    `align` is the separator row ("|---|---:|")."""
    lines = ["", f"## {title}", "", *intro.splitlines(), ""]
    return [*lines, f"| {columns} |", align] if columns else lines


def visibility_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = section(
        "Visibility",
        VISIBILITY,
        "path | outcome | places to read (mean) | the order | its timeline | function log groups "
        "| workflow log groups | events on the timeline",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    )
    for row in rows:
        places = 2 + row["function_logs"] + row["machine_logs"]
        lines.append(
            f"| {row['path']} | {row['outcome']} | {places:.1f} | 1 | 1 | {row['function_logs']:.1f} | "
            f"{row['machine_logs']:.1f} | {row['usage'].get('putevents_entries', 0):.1f} |"
        )
    return [*lines, "", *VISIBILITY_AFTER.splitlines()]


def reliability_lines(rows: list[dict[str, Any]]) -> list[str]:
    intro = RELIABILITY.format(orders=rows[0]["orders"] if rows else FAULT_ORDERS, undoing=", ".join(UNDOING))
    if not rows:
        return [
            *section("Reliability", intro),
            "Not measured in this run (the template has no FaultInjection parameter).",
        ]
    lines = section(
        "Reliability",
        intro,
        "fault | path | orders | HTTP answers | final status | to a decision p50 ms | max ms "
        "| compensation steps (mean) | compensation, as the timeline records it | shipped | invocations per order",
        "|---|---|---:|---|---|---:|---:|---:|---|---:|---:|",
    )
    for row in rows:
        lines.append(
            f"| {row['fault']} | {row['path']} | {row['orders']} | {row['answers']} | {row['final']} | "
            f"{row['decision_p50']:.0f} | {row['decision_max']:.0f} | {row['undo_steps']:.1f} | {row['undo']} | "
            f"{row['shipped']}/{row['orders']} | {row['invocations']:.1f} |"
        )
    return lines


def complexity_lines(figures: dict[str, Any]) -> list[str]:
    lines = section(
        "Complexity",
        COMPLEXITY,
        "path | resources | functions | rules | queues | state machines | states | lines of code | files",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    )
    for row in figures["rows"]:
        files = ", ".join(f"`{name}`" for name in row["code"])
        lines.append(
            f"| {row['path']} | {row['resources']} | {row['functions']} | {row['rules']} | {row['queues']} | "
            f"{row['machines']} | {row['states']} | {row['lines']} | {files} |"
        )
    lines += [
        "",
        f"The whole stack: {figures['resources']} resources; {figures['function_lines']} lines in functions/,"
        f" {figures['cdk_lines']} in cdk/.",
    ]
    return lines
