"""A deployed comparison's figures and its Markdown: latency per path and outcome, counts and cost per path."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from ops.compare.cloudwatch import Inventory
from ops.compare.constants import GENERATOR, OUTCOMES, SERVICES
from ops.compare.deployed import EXPECTED, Window
from ops.compare.model import _tally, cost_per_million, percentile

# (usage key, what it is): the rows of "Counts per order", in the local meter's names.
COUNTS = (
    ("api_requests", "API Gateway requests (the orders' POSTs; the tool's PUTs and polls taken out)"),
    ("lambda_invocations", "Lambda invocations (the API's for the tool's PUTs and polls taken out)"),
    ("lambda_gb_seconds", "Lambda GB-s (Duration × memory)"),
    ("express_executions", "Express executions started"),
    ("express_gb_seconds", "Express GB-s (estimated from ExecutionTime, 64 MB, 100 ms steps)"),
    ("standard_executions", "Standard executions started (transitions not read)"),
    ("putevents_entries", "events on the bus (the most-matching rule's MatchedEvents)"),
    ("rule_matches", "rule matches (MatchedEvents, all rules)"),
    ("rule_invocations", "rule target invocations"),
    ("sqs_send", "SQS messages sent"),
    ("sqs_receive", "SQS messages received"),
    ("sqs_delete", "SQS messages deleted"),
    ("dynamodb_wru", "DynamoDB write units (tables and indexes)"),
    ("dynamodb_rru", "DynamoDB read units (tables and indexes)"),
    ("log_bytes", "log bytes ingested (every log group of the stack)"),
    ("function_log_bytes", "of them, the functions' log groups"),
    ("sns_publishes", "SNS publishes"),
)


def per_order(window: Window, usage: dict[str, float]) -> dict[str, float]:
    """A window's counts per order: the tool's own requests (each one API request, one invocation of an
    API function) taken out of the API and Lambda counts first."""
    counts = dict(usage)
    for key in ("api_requests", "lambda_invocations"):
        counts[key] = max(0.0, counts.get(key, 0.0) - window.own_requests)
    return {key: value / max(1, len(window.orders)) for key, value in counts.items()}


def analyse(
    windows: list[Window], readings: list[dict[str, float]], found: Inventory, model: dict[str, Any]
) -> dict[str, Any]:
    arch = Counter(f.arch for f in found.functions).most_common(1)[0][0] if found.functions else "x86_64"
    rows = []
    for window in windows:
        for outcome in OUTCOMES:
            group = [o for o in window.orders if o.outcome == outcome]
            decided = [o.latency_ms for o in group if o.latency_ms is not None]
            rows.append(
                {
                    "path": window.path,
                    "outcome": outcome,
                    "orders": len(group),
                    "answers": _tally(str(o.status) for o in group),
                    "final": _tally(o.final_status or "?" for o in group),
                    "expected": sum(o.final_status == EXPECTED[outcome] for o in group),
                    "p50": percentile(decided, 50),
                    "p99": percentile(decided, 99),
                    "polls": statistics.mean(o.polls for o in group) if group else 0.0,
                }
            )
    counts = [per_order(w, u) for w, u in zip(windows, readings, strict=True)]
    costs = {
        region: [cost_per_million(c, prices, model["billing_rules"], arch) for c in counts]
        for region, prices in model["prices"].items()
    }
    return {"rows": rows, "counts": counts, "costs": costs, "arch": arch}


def render(
    results: dict[str, Any], windows: list[Window], readings: list[dict[str, float]], meta: dict[str, Any]
) -> str:
    paths = [w.path for w in windows]
    lines = [
        "# Orchestration against choreography, deployed",
        "",
        f"<!-- generator: {GENERATOR} (deployed); model: {meta['model_version']}; seed: {meta['seed']} -->",
        "",
        f"`python -m ops.compare --stack {meta['stack']}` in {meta['region']} on {meta['measured_at']}:",
        f"{meta['orders_per_case']} orders per path and outcome, seed {meta['seed']}, {meta['clients']} clients,",
        "signed requests to the deployed API; counts read from CloudWatch"
        + ("." if meta["complete"] else " **before they had all arrived** (`--metrics-wait` ran out)."),
        "",
        "| path | CloudWatch window (UTC) | orders | requests sent | of them the tool's own (PUTs, polls) |",
        "|---|---|---:|---:|---:|",
    ]
    for w in windows:
        span = f"{w.start:%Y-%m-%d %H:%M}–{w.end:%H:%M}"
        lines.append(f"| {w.path} | {span} | {len(w.orders)} | {w.requests} | {w.own_requests} |")
    lines += [
        "",
        "## Time to a decision",
        "",
        "Measured by the client: from sending POST /orders to the answer that carried the decision — the",
        "POST's own answer (201/402/409) or, after a 202, the GET /orders/{id} that first showed CONFIRMED",
        f"or REJECTED (polled every {meta['poll_interval']} s, at most {meta['decision_wait']:.0f} s). It includes",
        "the network between this machine and the region, and any cold start (no warm-up order is sent).",
        "",
        "| path | outcome | orders | HTTP answers | final status | as expected | p50 ms | p99 ms | polls per order |",
        "|---|---|---:|---|---|---:|---:|---:|---:|",
    ]
    for r in results["rows"]:
        lines.append(
            f"| {r['path']} | {r['outcome']} | {r['orders']} | {r['answers']} | {r['final']} | "
            f"{r['expected']}/{r['orders']} | {r['p50']:.0f} | {r['p99']:.0f} | {r['polls']:.1f} |"
        )
    lines += [
        "",
        "## Counts per order",
        "",
        "CloudWatch counts per resource and minute, not per order: each column is its path's window,",
        "the three outcomes mixed equally, divided by the path's orders. Besides the tool's own requests,",
        "which are taken out of the API Gateway and Lambda counts, the polls' Lambda time, reads and log",
        "lines stay in, as does anything else the stack did in those minutes.",
        "",
        "| count | " + " | ".join(paths) + " |",
        "|---|" + "---:|" * len(paths),
    ]
    for key, label in COUNTS:
        lines.append(f"| {label} | " + " | ".join(_number(c.get(key, 0.0)) for c in results["counts"]) + " |")
    empties = " and ".join(
        f"{u.get('sqs_empty_receives', 0.0):.0f} ({w.path})" for w, u in zip(windows, readings, strict=True)
    )
    lines += [
        "",
        f"Empty SQS receives in the windows, not per order (Lambda's pollers, with or without orders): {empties}.",
    ]
    for region, per_path in results["costs"].items():
        lines += [
            "",
            f"## Cost per million orders ({region})",
            "",
            f"The counts per order times the model's unit prices (Lambda {results['arch']}); KMS is not counted.",
            "",
            "| path | " + " | ".join(SERVICES) + " | total |",
            "|---|" + "---:|" * (len(SERVICES) + 1),
        ]
        for path, services in zip(paths, per_path, strict=True):
            cells = " | ".join(f"${services[s]:.2f}" for s in SERVICES)
            lines.append(f"| {path} | {cells} | **${sum(services.values()):.2f}** |")
    lines += [
        "",
        "## What is not counted",
        "",
        "- KMS requests: CloudWatch has no per-key request count (CloudTrail has them); $0 here.",
        "- Standard workflow state transitions: no per-state-machine metric; Standard executions are",
        "  counted, not priced.",
        "- PutEvents entries per bus: none (the account-wide PutEvents metrics count calls of every bus);",
        "  the rule that matched the most stands for the events. The archive's bytes are not counted.",
        "- SQS requests: messages are counted, not requests — a receive of a batch is one request, so",
        "  received messages overstate the receives; ChangeMessageVisibility is not counted.",
        "- Lambda: Duration is summed before each invocation's rounding up to 1 ms.",
        "- Express: billed per execution in 100 ms steps; estimated from the mean execution time.",
        "- DynamoDB Streams reads by Lambda cost nothing and are not read.",
    ]
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 1000 else f"{value:.2f}"
