"""`python -m ops.compare --stack NAME`: find the stack, run the workload, read CloudWatch, print the tables."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from ops.api import stack_api_url
from ops.compare.cloudwatch import Inventory, inventory, read_sums, usage_of
from ops.compare.constants import MODEL
from ops.compare.deployed import SignedApi, Window, await_metrics, run_windows
from ops.compare.deployed_render import analyse, render

DEFAULT_ORDERS = 5  # per path and outcome: 30 orders in all


class StackError(LookupError):
    """The stack is not there, or is not one this comparison can read."""


def discover(session: Any, stack: str) -> tuple[str, Inventory]:
    """The stack's API URL and its resources; a missing stack is a StackError naming it."""
    cloudformation = session.client("cloudformation")
    region = session.region_name
    try:
        api_url = stack_api_url(cloudformation, stack)
        found = inventory(cloudformation, session.client("lambda"), stack, session.client("apigateway"))
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", str(error))
        if "does not exist" in message:
            raise StackError(f"no stack {stack!r} in {region} (CloudFormation: {message})") from error
        raise
    except LookupError as error:
        raise StackError(f"stack {stack!r} in {region}: {error}") from error
    if not found.functions:
        raise StackError(f"stack {stack!r} in {region} has no Lambda functions: is it orderflow?")
    return api_url, found


def run(
    args: argparse.Namespace, say: Any = print, sleep: Any = time.sleep, now: Any = lambda: datetime.now(UTC)
) -> int:
    """The deployed comparison; `sleep` and `now` are the waits' clock (tests move it on without waiting)."""
    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    region = session.region_name
    if not region:
        print("no region: pass --region or set AWS_REGION", file=sys.stderr)
        return 2
    credentials = session.get_credentials()
    if credentials is None:
        print("no AWS credentials (profile, environment or role): the API needs signed requests", file=sys.stderr)
        return 2
    try:
        api_url, found = discover(session, args.stack)
    except (StackError, ClientError, BotoCoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    model = json.loads(MODEL.read_text())
    orders = args.orders or DEFAULT_ORDERS
    say(f"{args.stack} in {region}: {api_url}; {len(found.functions)} functions, {len(found.queues)} queues")
    windows = run_windows(
        SignedApi(api_url, credentials, region),
        orders,
        args.seed,
        args.clients,
        say,
        settle=args.settle,
        decision_wait=args.decision_wait,
        poll_interval=args.poll_interval,
        sleep=sleep,
        now=now,
    )
    cloudwatch = session.client("cloudwatch")
    metrics = found.metrics()
    say(
        f"reading {len(metrics)} metrics from CloudWatch, which lags a few minutes"
        f" (--metrics-wait {args.metrics_wait:.0f} s)"
    )

    def read(window: Window) -> dict[str, float]:
        return usage_of(read_sums(cloudwatch, metrics, window.start, window.end), found)

    readings, complete = await_metrics(read, windows, say, metrics_wait=args.metrics_wait, sleep=sleep, now=now)
    meta = {
        "stack": args.stack,
        "region": region,
        "seed": args.seed,
        "orders_per_case": orders,
        "clients": args.clients,
        "model_version": model["version"],
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "poll_interval": args.poll_interval,
        "decision_wait": args.decision_wait,
        "complete": complete,
    }
    markdown = render(analyse(windows, readings, found, model), windows, readings, meta)
    print(markdown)
    if args.output is not None:
        Path(args.output).write_text(markdown)
        say(f"wrote {args.output}")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a deployed run (`--stack` and what only it reads)."""
    group = parser.add_argument_group("against a deployed stack (--stack)")
    group.add_argument("--stack", help="compare the deployed CloudFormation stack NAME instead of a local cloud")
    group.add_argument("--region", help="the stack's region (default: the session's, AWS_REGION)")
    group.add_argument("--profile", help="the AWS profile (default: the session's, AWS_PROFILE)")
    group.add_argument(
        "--metrics-wait", type=float, default=300.0, help="seconds to wait for CloudWatch to catch up (default 300)"
    )
    group.add_argument("--settle", type=float, default=15.0, help="seconds after a path's last decision (default 15)")
    group.add_argument("--decision-wait", type=float, default=60.0, help="seconds to wait for a decision (default 60)")
    group.add_argument("--poll-interval", type=float, default=0.25, help="seconds between status polls (default 0.25)")
