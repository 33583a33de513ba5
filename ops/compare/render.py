"""docs/comparison.md from a run's results."""

from __future__ import annotations

import statistics
from typing import Any

from ops.compare.constants import CHARTS, GENERATOR, MONTE_CARLO_SAMPLES, OUTCOMES, PATHS, SERVICES
from ops.compare.sections import complexity_lines, reliability_lines, visibility_lines


def render(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# Orchestration against choreography, in numbers",
        "",
        f"<!-- generator: {GENERATOR}; model: {meta['model_version']}; seed: {meta['seed']} -->",
        "",
        f"Written by `make compare` (`python -m ops.compare`, generator `{GENERATOR}`, seed {meta['seed']},",
        f"model `{meta['model_version']}` from [docs/model/aws-2026.json](model/aws-2026.json))",
        f"on {meta['measured_at']},",
        f"{meta['machine']} (load average {meta.get('load', '?')}), Python {meta['python']}.",
        "Local figures are orderflow's code on moto on this machine;",
        "AWS figures are modeled from them (see the last section), not measured on AWS.",
        "",
        "## Workload",
        "",
        f"{meta['orders_per_case']} orders per path and outcome ({meta['orders']} in all), shuffled with seed"
        f" {meta['seed']}, {meta['clients']} clients in parallel, through the local REST API after one warm-up order",
        "per path and outcome. Confirmed: stock and `tok_visa`; out of stock: a SKU with none; declined:",
        "`tok_chargeDeclined`.",
        "",
        "| path | outcome | orders | HTTP answers | final status |",
        "|---|---|---:|---|---|",
    ]
    rows = results["rows"]
    for row in rows:
        lines.append(f"| {row['path']} | {row['outcome']} | {row['orders']} | {row['answers']} | {row['final']} |")
    baseline = results.get("baseline") or {}
    if baseline:
        lines += [
            "",
            "## Before and after",
            "",
            f"Before: {baseline['description']} (measured {baseline['measured_at']}). After: this run.",
            "Goals (issue 10), modeled at us-east-1: at most 4 Lambda invocations on the orchestrated",
            "critical path, ≤ $20 per million orchestrated orders, ≤ $25 per million choreographed",
            "orders, orchestrated p50 to a decision ≤ 400 ms. The before figures' model counted neither KMS",
            "requests, SNS publishes nor index writes, and took Lambda's duration and the handler time from",
            "this machine, moto's answers included; the after figures count those and model these (see",
            '"How it is computed"). The goals are not met: docs/decisions.md (18) says why.',
            "",
            "| path | outcome | critical-path invocations | invocations in all | AWS-modeled p50 ms "
            "| AWS-modeled p99 ms | $ per million (us-east-1) |",
            "|---|---|---|---|---|---|---|",
        ]
        us_east = {(c["path"], c["outcome"]): c["total"] for c in results["costs"].get("us-east-1", [])}
        for row in rows:
            old = baseline["rows"].get(f"{row['path']}|{row['outcome']}")
            if not old:
                continue
            cost = us_east.get((row["path"], row["outcome"]), float("nan"))
            lines.append(
                f"| {row['path']} | {row['outcome']} | {old['critical_invocations']:.1f} → "
                f"**{row['critical_invocations']:.1f}** | {old['invocations']:.1f} → **{row['invocations']:.1f}** | "
                f"{old['aws_p50']:.0f} → **{row['aws_p50']:.0f}** | {old['aws_p99']:.0f} → **{row['aws_p99']:.0f}** | "
                f"${old['cost_us_east_1']:.2f} → **${cost:.2f}** |"
            )
        for path in PATHS:
            mixed_old = statistics.mean(baseline["rows"][f"{path}|{o}"]["cost_us_east_1"] for o in OUTCOMES)
            mixed_new = statistics.mean(us_east[(path, o)] for o in OUTCOMES)
            lines.append(
                f"| {path} | *the three outcomes, equally mixed* | | | | | ${mixed_old:.2f} → **${mixed_new:.2f}** |"
            )
    lines += [
        "",
        "## Time to a decision",
        "",
        "From the API request to the end of the invocation that wrote the decision (the one that emits",
        f"TimeToDecision). AWS-modeled: {MONTE_CARLO_SAMPLES} Monte Carlo draws per order over the critical",
        "path's hops, the path's own code as it would run on Lambda, and one modeled AWS call per call the",
        "path made (see the last section).",
        "",
        "| path | outcome | local p50 ms | local p99 ms | AWS-modeled p50 ms | AWS-modeled p99 ms "
        "| handler ms on the path (p50) | of it, own code (p50) | own code at Lambda's CPU share (p50) "
        "| AWS-modeled p50 without own code | AWS calls on the path (mean, by service) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['path']} | {row['outcome']} | {row['local_p50']:.0f} | {row['local_p99']:.0f} | "
            f"{row['aws_p50']:.0f} | {row['aws_p99']:.0f} | {row['handler_p50']:.0f} | {row['own_p50']:.0f} | "
            f"{row['lambda_own_p50']:.0f} | {row['floor_p50']:.0f} | "
            f"{row['calls_mean']:.1f}: {row['calls_by_service']} |"
        )
    lines += [
        "",
        "Own code is the handler time on the path less its waits for the local cloud, timed on the",
        "function's side of each request (the local runtime's worker times every HTTP request botocore",
        "sends, so a busy server's queue counts as a wait, as a busy AWS would): our code and botocore's",
        "side of each call (signing, serialising, parsing). It ran on a full core here; on Lambda a",
        "function has a `memory / 1,769 MB` share of a vCPU, so the model stretches each step's own time",
        "(at most the CPU its process used) by the inverse: about 6.9x at 256 MB, 3.5x at 512 MB. The",
        "column before the calls is the floor the hops and calls alone set, whatever the code's speed.",
    ]
    lines += ["", f"![Time to a decision, AWS-modeled, per path and outcome]({CHARTS['latency']})"]
    for region, table in results["costs"].items():
        lines += [
            "",
            f"## Cost per million orders ({region})" if region == "us-east-1" else f"### {region}",
            "",
            "Counts per order (mean) times the unit prices of the model"
            + ("." if region == "us-east-1" else f" ({results['price_notes'][region]})."),
            "",
            "| path | outcome | " + " | ".join(SERVICES) + " | total |",
            "|---|---|" + "---:|" * (len(SERVICES) + 1),
        ]
        for row in table:
            cells = " | ".join(f"${row['services'][s]:.2f}" for s in SERVICES)
            lines.append(f"| {row['path']} | {row['outcome']} | {cells} | **${row['total']:.2f}** |")
    heading = lines.index("## Cost per million orders (us-east-1)")
    lines[heading] = "## Cost per million orders"
    lines[heading + 1 : heading + 1] = ["", f"![Cost per million orders by service, us-east-1]({CHARTS['cost']})"]
    lines += [
        "",
        "Idle polling is not in these figures: the pollers' empty receives"
        f" ({results['empty_receives']} during the run) are a fixed cost per queue, whatever the number of orders.",
        "",
        "## Lambda invocations",
        "",
        "| path | outcome | on the critical path | in all (mean) | critical path |",
        "|---|---|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['path']} | {row['outcome']} | {row['critical_invocations']:.1f} | "
            f"{row['invocations']:.1f} | {row['critical_path']} |"
        )
    lines += [
        "",
        "## Functions",
        "",
        "Every invocation of the run (workload only), per function: measured duration here (handler",
        "time on this machine, moto's answers included), the duration modeled for AWS (less moto's",
        "answers, its own time stretched to its CPU share on Lambda, plus each call's modeled p50), which",
        "the cost uses, and the memory and architecture the template gives it (docs/decisions.md, 16).",
        "",
        "| function | architecture | memory MB | invocations | p50 ms | p90 ms | p99 ms | AWS-modeled p50 ms "
        "| GB-s per 1,000 invocations (modeled) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fn in results["functions"]:
        lines.append(
            f"| {fn['name']} | {fn['arch']} | {fn['memory_mb']} | {fn['invocations']} | {fn['p50']:.0f} | "
            f"{fn['p90']:.0f} | {fn['p99']:.0f} | {fn['modeled_p50']:.0f} | {fn['gb_s_per_k']:.1f} |"
        )
    lines += [
        "",
        "## Counts per order",
        "",
        "Means per order, as the meter counted them (`local/meter/`).",
        "",
        "| path | outcome | API requests | Lambda invocations | Lambda GB-s | Express executions "
        "| Standard transitions | PutEvents entries | rule deliveries | SQS requests | DynamoDB WRU | DynamoDB RRU "
        "| log KB |",
        "|---|---|" + "---:|" * 11,
    ]
    for row in rows:
        u = row["usage"]
        sqs = sum(u.get(k, 0) for k in ("sqs_send", "sqs_receive", "sqs_delete", "sqs_change_visibility"))
        lines.append(
            f"| {row['path']} | {row['outcome']} | {u.get('api_requests', 0):.1f} | "
            f"{u.get('lambda_invocations', 0):.1f} | {u.get('lambda_gb_seconds', 0):.3f} | "
            f"{u.get('express_executions', 0):.1f} | {u.get('standard_transitions', 0):.1f} | "
            f"{u.get('putevents_entries', 0):.1f} | {u.get('rule_deliveries', 0):.1f} | {sqs:.1f} | "
            f"{u.get('dynamodb_wru', 0):.1f} | {u.get('dynamodb_rru', 0):.1f} | {u.get('log_bytes', 0) / 1024:.1f} |"
        )
    lines += [
        "",
        "## Coupling",
        "",
        "Read from the synthesized template: which services each one calls (IAM grants to another",
        "service's resources, state machine tasks) and whose events it must know (its rules' patterns).",
        "",
        "| service | calls | must know the events of |",
        "|---|---|---|",
    ]
    for service, edges in sorted(results["coupling"].items()):
        calls = "; ".join(sorted(edges["calls"])) or "—"
        events = "; ".join(sorted(edges["events"])) or "—"
        lines.append(f"| {service} | {calls} | {events} |")
    lines += visibility_lines(rows) + reliability_lines(results.get("reliability", []))
    lines += complexity_lines(results["complexity"])
    lines += [
        "",
        "## How it is computed",
        "",
        "- **Counts** come from the local cloud's meter as the calls happen, per correlation id (the",
        "  driver sets `X-Correlation-Id`): Lambda invocations with their measured duration and the",
        "  template's MemorySize, Step Functions executions (Express duration, Standard transitions from",
        "  the execution history), PutEvents entries, rule deliveries, SQS requests, DynamoDB request",
        "  units from item sizes, log bytes. A function's AWS calls are attributed through the X-Ray",
        "  trace header botocore sends from inside an invocation.",
        "- **Critical path**: orchestrated, the API invocation and the saga's tasks up to the decision;",
        "  choreographed, walked back from the decision, each step's cause being the order's invocation",
        "  that ended last before it began. Each step's hop is chosen by its trigger: API Gateway,",
        "  EventBridge rule then SQS, DynamoDB stream, Express or Standard task. The choreographed walk",
        "  is a timing heuristic: a consumer running beside the chain (the timeline) can stand in for",
        "  the real cause, with its own hop and handler time.",
        "- **Handler time on the path**: each step until the next one starts (the API function waits",
        "  for its saga, which is counted step by step instead).",
        "- **AWS-modeled latency** = the sum over the critical path of one draw per hop (log-linear between",
        "  the published p50, p90 and p99), plus the path's own code as it would run on Lambda, plus one",
        "  draw per AWS call the path completed (`call:<service>` below). The local cloud times every",
        "  request a function makes, on the server (which service, found by the invocation's trace",
        "  header) and on the function's side (how long it waited); that wait is taken out of the",
        "  handler time and each call is drawn from the model instead, so",
        "  DynamoDB, EventBridge, KMS or SQS time is counted once, at AWS's latency, not at moto's.",
        "  The own time left (our code, botocore's client side; at most the CPU the function's process",
        "  used, so a wait for one of this machine's cores is not counted) ran on a full core here; on",
        "  Lambda a 256 MB function gets about a seventh of a vCPU (1,769 MB is one) and a 512 MB one",
        "  about two sevenths, so each step's own time is stretched by `1769 / memory`, in the latency",
        "  and in the billed duration alike (`lambda_full_vcpu_mb` in the model file).",
        "- **Cost** = mean counts per order x unit prices; Lambda GB-s from each invocation's modeled",
        "  duration (measured, less its wait for moto, plus its calls' modeled p50; the local GB-s are",
        "  kept as `lambda_gb_seconds_local`), Express at 64 MB per 100 ms of the local execution time,",
        "  SQS and EventBridge per 64 KB chunk. A function that starts a synchronous Express execution",
        "  (the orders API) is billed while it waits: that call is modeled as the execution's tasks",
        "  (their modeled durations), one Express task hop each and its direct DynamoDB steps' hops.",
        "- **Attribution**: a record several orders share (a batch) is split evenly among them, except a",
        "  DynamoDB item that names its correlation id (a timeline entry), billed to that order alone.",
        "- The saga's direct DynamoDB task (ReadOrder) runs no function: it is a hop of its own on the",
        "  critical path (`express_dynamodb_task` below), with no handler time; its request units are",
        "  the order's (the interpreter's requests carry a trace header naming their execution).",
        "- Calls not made by a deployment are dropped from the model: the fault document's reads from",
        "  SSM (`calls_not_in_a_deployment` in the model file); their local wait is still taken out.",
        "- The simulated card processor is a DynamoDB ledger here, so its calls are modeled as DynamoDB",
        "  calls; a real processor answers in its own time (often hundreds of milliseconds), not modeled.",
        "- DynamoDB writes include each global secondary index's copy (one write unit per 1 KB of the",
        "  copy when it changes, two when its key moves), as DynamoDB bills them.",
        "- The simulated card processor's ledger (`SIM#` items in the payments table) stands in for the",
        "  processor's own systems: its request units are counted apart (`processor_wru`/`processor_rru`",
        "  in the meter) and not billed to orderflow.",
        "- Not counted: Step Functions' own logs (LoggingConfiguration), API Gateway's access logs, X-Ray",
        "  (traces are $5 per million recorded: at a trickle the default sampling rule's one trace a",
        "  second records nearly every order, about $5 per million orders; at hundreds of orders a second",
        "  its 5% about $0.25), CloudWatch metrics and alarms, data transfer, the free tier. KMS requests",
        "  and SNS publishes are counted as the functions' own calls, timed on the server; the KMS requests",
        "  AWS services make for encrypted queues, topics and tables are not.",
        "",
        "Latency inputs (ms):",
        "",
        "| hop | p50 | p90 | p99 | source |",
        "|---|---:|---:|---:|---|",
    ]
    for spec in results["model"]["latency_ms"].values():
        lines.append(
            f"| {spec['hop']} | {spec['p50']} | {spec['p90']} | {spec['p99']} | {spec['source']}, {spec['date']} |"
        )
    return "\n".join(lines) + "\n"
