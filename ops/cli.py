"""`python -m ops`: check invariants, redrive DLQs, replay the archive, call the API; against AWS or the local cloud.

Resources come from `--resources FILE`; with `--endpoint-url`, from the file the local runner
writes while it runs (`.local/resources.json`); else from the CloudFormation stack `--stack`
(default Orderflow). `--endpoint-url` points every client at the local cloud's moto server, with
placeholder credentials (ops.connection). The commands: ops.cli_commands (check, redrive,
replay, resources) and ops.cli_api (api, console).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console

from ops import replay, topology
from ops.checker.model import DEFAULT_GRACE
from ops.cli_api import run_api, run_console
from ops.cli_commands import EXIT_USAGE, run_check, run_redrive, run_replay, show_resources
from ops.connection import connect
from ops.resources import DEFAULT_STACK, ResourceNotFound


def _connection_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The same options before or after the command; after it, only what is given overrides."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "--stack", default=default(DEFAULT_STACK), help=f"CloudFormation stack name (default {DEFAULT_STACK})"
    )
    parser.add_argument("--resources", type=Path, default=default(None), help="JSON file: logical id -> physical id")
    parser.add_argument("--endpoint-url", default=default(None), help="the local cloud, e.g. http://127.0.0.1:5000")
    parser.add_argument("--region", default=default(None), help="AWS region (default: the session's)")
    parser.add_argument("--profile", default=default(None), help="AWS profile for a deployed stack")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description="orderflow operations toolkit")
    _connection_options(parser, suppress=False)
    common = argparse.ArgumentParser(add_help=False)
    _connection_options(common, suppress=True)
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", parents=[common], help="check the system's invariants (exit 1 on violations)")
    check.add_argument("--settled", action="store_true", help="the system is quiet: no grace for what is in flight")
    check.add_argument(
        "--grace",
        type=float,
        default=DEFAULT_GRACE.total_seconds(),
        help="seconds an order may wait for asynchronous follow-ups (default %(default)s)",
    )
    check.add_argument("--json", action="store_true", help="print the report as JSON")

    redrive = commands.add_parser(
        "redrive", parents=[common], help="move DLQ messages back to where they can be processed"
    )
    redrive.add_argument("names", nargs="*", metavar="NAME", help=f"DLQs: {', '.join(topology.DEAD_LETTER_QUEUES)}")
    redrive.add_argument("--all", action="store_true", help="every DLQ")
    redrive.add_argument("--dry-run", action="store_true", help="count what would move; move nothing")

    replay_parser = commands.add_parser("replay", parents=[common], help="replay the bus archive onto the bus")
    replay_parser.add_argument(
        "--since", required=True, type=replay.parse_time, help="ISO 8601 start (UTC if no offset)"
    )
    replay_parser.add_argument("--until", type=replay.parse_time, default=None, help="ISO 8601 end (default: now)")
    replay_parser.add_argument("--order", default=None, metavar="ORDER_ID", help="only this order's events")
    replay_parser.add_argument("--poll", type=float, default=5.0, help="seconds between status polls")

    commands.add_parser("resources", parents=[common], help="show the resources the toolkit resolved")

    api_parser = commands.add_parser(
        "api",
        parents=[common],
        help="call the REST API: SigV4-signed with your AWS credentials when deployed, unsigned locally",
    )
    api_parser.add_argument("method", type=str.upper, choices=["GET", "PUT", "POST", "DELETE"])
    api_parser.add_argument("path", help="e.g. /orders or /inventory/sku-123")
    api_parser.add_argument("--data", "-d", default=None, help="a JSON body, or @file")
    api_parser.add_argument(
        "--header", "-H", action="append", default=[], metavar="NAME:VALUE", help="e.g. 'Idempotency-Key: k-1'"
    )
    api_parser.add_argument(
        "--url", default=None, help="the API's base URL (default: the local runner's, else the stack's ApiUrl output)"
    )

    console_parser = commands.add_parser(
        "console",
        parents=[common],
        help="serve the web console on 127.0.0.1 in front of the API, signing every call when it is deployed",
    )
    console_parser.add_argument(
        "--url", default=None, help="the API's base URL (default: the local runner's, else the stack's ApiUrl output)"
    )
    console_parser.add_argument(
        "--template",
        type=Path,
        default=None,
        help="the synthesized template (default: the deployed stack's; locally cdk.out/<stack>.template.json)",
    )
    console_parser.add_argument("--port", type=int, default=8080, help="port to serve on (default 8080; 0: any free)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out, err = Console(), Console(stderr=True)
    try:
        return _run(args, out, err)
    except (ResourceNotFound, ValueError, LookupError, OSError) as error:
        err.print(f"[red]error:[/red] {error}")
        return EXIT_USAGE
    except (ClientError, BotoCoreError) as error:
        err.print(f"[red]AWS error:[/red] {error}")
        return EXIT_USAGE


def _run(args: argparse.Namespace, out: Console, err: Console) -> int:
    if args.command == "api":
        return run_api(args, out)
    if args.command == "console":
        return run_console(args, out)
    clients, resources = connect(args)
    if args.command == "check":
        return run_check(args, clients, resources, out, err)
    if args.command == "redrive":
        return run_redrive(args, clients, resources, out, err)
    if args.command == "replay":
        return run_replay(args, clients, resources, out, err)
    return show_resources(resources, out)
