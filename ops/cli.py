"""`python -m ops`: check invariants, redrive DLQs, replay the archive, call the API; against AWS or the local cloud.

Resources come from `--resources FILE`; with `--endpoint-url`, from the file the local runner
writes while it runs (`.local/resources.json`); else from the CloudFormation stack `--stack`
(default Orderflow). `--endpoint-url` points every client at the local cloud's moto server, with
placeholder credentials.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ops import api, checker, replay, topology
from ops import redrive as redrive_module
from ops.checker.model import DEFAULT_GRACE
from ops.clients import Clients, local_session
from ops.resources import (
    DEFAULT_RESOURCES_FILE,
    DEFAULT_STACK,
    EVENT_ARCHIVE,
    EVENT_BUS,
    INVENTORY_TABLE,
    ORDERS_TABLE,
    PAYMENT_WORKFLOW,
    PAYMENTS_TABLE,
    RELAY_FUNCTION,
    SAGA_STATE_MACHINE,
    SHIPMENTS_TABLE,
    ResourceNotFound,
    Resources,
)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


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


def connect(args: argparse.Namespace) -> tuple[Clients, Resources]:
    """Clients and resources: `--resources FILE`; with `--endpoint-url`, the local runner's file
    (`.local/resources.json`) if there is one; else the CloudFormation stack `--stack`."""
    resources: Resources | None = None
    if args.resources is not None:
        resources = Resources.from_file(args.resources)
    elif args.endpoint_url and DEFAULT_RESOURCES_FILE.exists():
        resources = Resources.from_file(DEFAULT_RESOURCES_FILE)
        if resources.endpoint_url and not same_endpoint(resources.endpoint_url, args.endpoint_url):
            raise ResourceNotFound(
                f"{DEFAULT_RESOURCES_FILE} is the local cloud at {resources.endpoint_url}, not {args.endpoint_url} "
                "(a local cloud that is gone, or another one): use the endpoint `make local` printed, "
                "or pass --resources <its --work-dir>/resources.json"
            )
    if args.endpoint_url:
        # The runner's region, unless told otherwise: its resources exist in that region only.
        session = local_session(args.region or (resources.region if resources else None))
    else:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
    clients = Clients.from_session(session, args.endpoint_url)
    if resources is not None:
        return clients, resources
    try:
        return clients, Resources.from_stack(clients.cloudformation, args.stack)
    except ClientError as error:
        if not args.endpoint_url or "does not exist" not in str(error):
            raise
        raise ResourceNotFound(
            f"no {DEFAULT_RESOURCES_FILE} and no stack {args.stack!r} at {args.endpoint_url}: the local runner "
            "(`make local`) writes that file while it runs; start it, or pass --resources FILE"
        ) from error


def same_endpoint(a: str, b: str) -> bool:
    """`http://localhost:5000/` and `http://127.0.0.1:5000` are one endpoint."""

    def key(url: str) -> tuple[str, str, int | None]:
        parsed = urlsplit(url)
        host = parsed.hostname or ""
        return parsed.scheme, "127.0.0.1" if host == "localhost" else host, parsed.port

    return key(a) == key(b)


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
        return _api(args, out)
    if args.command == "console":
        return _console(args, out)
    clients, resources = connect(args)
    if args.command == "check":
        return _check(args, clients, resources, out, err)
    if args.command == "redrive":
        return _redrive(args, clients, resources, out, err)
    if args.command == "replay":
        return _replay(args, clients, resources, out, err)
    return _resources(resources, out)


# --- api -------------------------------------------------------------------------------------


@dataclass
class ApiTarget:
    base_url: str
    local: bool
    stack: str | None  # the local runner's stack, when the URL came from its resources file
    session: boto3.Session | None  # signs for a deployed API
    region: str | None

    def credentials(self) -> Any:
        """Frozen credentials for one request (a refreshing session's current ones), or None locally."""
        if self.session is None:
            return None
        found = self.session.get_credentials()
        if found is None:
            raise ValueError("no AWS credentials to sign with (AWS_PROFILE, environment, or SSO login)")
        return found.get_frozen_credentials()


def _api_target(args: argparse.Namespace) -> ApiTarget:
    """Where the API is (`--url`, the local runner's resources, else the stack's ApiUrl output) and
    how to sign for it: with the caller's AWS credentials unless it is local."""
    base_url, local, stack = args.url, False, None
    if base_url is None and (args.endpoint_url or args.resources or DEFAULT_RESOURCES_FILE.exists()):
        _, resources = connect(args)
        base_url, local, stack = resources.api_url, True, resources.stack
    session = None
    if base_url is None:
        session = boto3.Session(profile_name=args.profile, region_name=args.region)
        base_url = api.stack_api_url(session.client("cloudformation"), args.stack)
    if not base_url:
        raise ValueError("no API URL: pass --url, or run `make local` (it writes its API URL to .local/resources.json)")
    host = urlsplit(base_url).hostname or ""
    local = local or host in ("127.0.0.1", "localhost")
    if local:
        return ApiTarget(base_url, True, stack, None, None)
    session = session or boto3.Session(profile_name=args.profile, region_name=args.region)
    target = ApiTarget(base_url, False, None, session, session.region_name or host.split(".")[2])
    target.credentials()  # fail now, not at the first request
    return target


def _api(args: argparse.Namespace, out: Console) -> int:
    headers = {}
    for header in args.header:
        name, separator, value = header.partition(":")
        if not separator or not name.strip():
            raise ValueError(f"--header {header!r}: expected NAME:VALUE")
        headers[name.strip()] = value.strip()
    body = api.request_body(args.data)
    target = _api_target(args)
    url = api.join(target.base_url, args.path)
    answer = api.call(args.method, url, body, headers, credentials=target.credentials(), region=target.region)
    out.print(f"HTTP {answer.status}", style="green" if answer.status < 400 else "red")
    for name in ("Location", "Retry-After", "ETag"):
        if name in answer.headers:
            out.print(f"{name}: {answer.headers[name]}")
    if isinstance(answer.body, str):
        out.print(answer.body, markup=False)
    else:
        out.print_json(data=answer.body)
    return EXIT_OK if answer.status < 400 else EXIT_FINDINGS


# --- console ---------------------------------------------------------------------------------


def _console(args: argparse.Namespace, out: Console) -> int:
    from console import graph
    from console.server import ConsoleServer

    target = _api_target(args)
    stack = target.stack or args.stack
    if args.template is not None:
        template = json.loads(args.template.read_text())
    elif target.local:
        template = json.loads((Path("cdk.out") / f"{stack}.template.json").read_text())
    else:
        assert target.session is not None
        body = target.session.client("cloudformation").get_template(StackName=stack)["TemplateBody"]
        template = json.loads(body) if isinstance(body, str) else dict(body)
    server = ConsoleServer(
        target.base_url,
        graph.build(template, stack=stack),
        credentials=None if target.local else target.credentials,
        region=target.region,
        port=args.port,
    )
    how = "unsigned (local)" if target.local else f"SigV4-signed with your credentials ({target.region})"
    out.print(f"console on [bold]{server.url}[/bold] for {target.base_url}, {how}; Ctrl-C stops it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK


# --- check -----------------------------------------------------------------------------------


def _check(args: argparse.Namespace, clients: Clients, resources: Resources, out: Console, err: Console) -> int:
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True) as progress:
        task = progress.add_task("reading", total=None)
        report = checker.check(
            clients,
            resources,
            settled=args.settled,
            grace=timedelta(seconds=args.grace),
            progress=lambda step: progress.update(task, description=f"reading {step}"),
        )
    if args.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return EXIT_OK if report.ok else EXIT_FINDINGS

    counts = Table(title="orderflow state", show_header=False)
    for name, value in report.counts.items():
        counts.add_row(name, str(value))
    out.print(counts)
    waiting = {name: n for name, n in report.messages.items() if n}
    if waiting:
        queues = Table(title="messages waiting", show_header=True)
        queues.add_column("queue")
        queues.add_column("messages", justify="right")
        for name, n in waiting.items():
            queues.add_row(name, str(n))
        out.print(queues)
    for note in report.notes:
        out.print(f"[yellow]note:[/yellow] {note}")
    if report.ok:
        out.print("[green]no invariant violations[/green]")
        return EXIT_OK
    table = Table(title=f"{len(report.violations)} invariant violation(s)")
    table.add_column("kind", style="red", no_wrap=True)
    table.add_column("order / sku", no_wrap=True)
    table.add_column("detail")
    for violation in report.violations:
        table.add_row(str(violation.kind), violation.subject, violation.detail)
    out.print(table)
    return EXIT_FINDINGS


# --- redrive ---------------------------------------------------------------------------------


def _redrive(args: argparse.Namespace, clients: Clients, resources: Resources, out: Console, err: Console) -> int:
    if args.all == bool(args.names):
        err.print("[red]error:[/red] name the DLQs to redrive, or pass --all (not both)")
        err.print(f"DLQs: {', '.join(topology.DEAD_LETTER_QUEUES)}")
        return EXIT_USAGE
    names = list(topology.DEAD_LETTER_QUEUES) if args.all else args.names
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err, transient=True) as progress:
        task = progress.add_task("redriving", total=None)
        results = redrive_module.redrive(
            clients,
            resources,
            names,
            dry_run=args.dry_run,
            progress=lambda name, n: progress.update(task, description=f"{name}: {n} message(s)"),
        )
    table = Table(title="redrive (dry run)" if args.dry_run else "redrive")
    table.add_column("queue", no_wrap=True)
    table.add_column("to")
    table.add_column("waiting", justify="right")
    table.add_column("moved", justify="right", style="green")
    table.add_column("failed", justify="right", style="red")
    for result in results.values():
        table.add_row(result.name, result.destination, str(result.waiting), str(result.moved), str(result.failed))
    out.print(table)
    errors = [(r.name, e) for r in results.values() for e in r.errors]
    for name, error in errors:
        out.print(f"[red]{name}:[/red] {error}")
    return EXIT_FINDINGS if errors else EXIT_OK


# --- replay ----------------------------------------------------------------------------------


def _replay(args: argparse.Namespace, clients: Clients, resources: Resources, out: Console, err: Console) -> int:
    until = args.until or datetime.now(UTC)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("replay STARTING", total=1.0)

        def show(state: str, fraction: float | None) -> None:
            progress.update(task, description=f"replay {state}", completed=fraction or 0.0)

        result = replay.replay(
            clients,
            resources,
            since=args.since,
            until=until,
            order_id=args.order,
            poll_seconds=args.poll,
            progress=show,
        )
    table = Table(title="replay", show_header=False)
    table.add_row("name", result.name)
    table.add_row("window", f"{args.since.isoformat()} .. {until.isoformat()}")
    table.add_row("state", result.state)
    if result.reason:
        table.add_row("reason", result.reason)
    if result.order_id:
        table.add_row("order", result.order_id)
        table.add_row("events republished", str(result.republished))
    out.print(table)
    return EXIT_OK if result.ok else EXIT_FINDINGS


# --- resources -------------------------------------------------------------------------------


def _resources(resources: Resources, out: Console) -> int:
    table = Table(title="resources")
    table.add_column("what")
    table.add_column("logical id", no_wrap=True)
    table.add_column("physical id")
    wanted = {
        "orders table": ORDERS_TABLE,
        "inventory table": INVENTORY_TABLE,
        "payments table": PAYMENTS_TABLE,
        "shipments table": SHIPMENTS_TABLE,
        "event bus": EVENT_BUS,
        "archive": EVENT_ARCHIVE,
        "saga": SAGA_STATE_MACHINE,
        "payment workflow": PAYMENT_WORKFLOW,
        "relay function": RELAY_FUNCTION,
    }
    wanted |= {f"{name} queue": prefix for name, prefix in topology.CONSUMER_QUEUES.items()}
    wanted |= {f"{name} DLQ": dlq.prefix for name, dlq in topology.DEAD_LETTER_QUEUES.items()}
    missing = 0
    for what, prefix in wanted.items():
        try:
            table.add_row(what, resources.logical_id(prefix), resources.physical_id(prefix))
        except ResourceNotFound as error:
            missing += 1
            table.add_row(what, "[red]missing[/red]", str(error))
    out.print(table)
    return EXIT_FINDINGS if missing else EXIT_OK
