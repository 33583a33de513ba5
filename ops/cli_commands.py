"""`python -m ops check | redrive | replay | resources`: each command's run and the tables it prints."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ops import checker, replay, topology
from ops import redrive as redrive_module
from ops.clients import Clients
from ops.resources import PREFIXES, ResourceNotFound, Resources

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


# --- check -----------------------------------------------------------------------------------


def run_check(args: argparse.Namespace, clients: Clients, resources: Resources, out: Console, err: Console) -> int:
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


def run_redrive(args: argparse.Namespace, clients: Clients, resources: Resources, out: Console, err: Console) -> int:
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


def run_replay(args: argparse.Namespace, clients: Clients, resources: Resources, out: Console, err: Console) -> int:
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


def show_resources(resources: Resources, out: Console) -> int:
    table = Table(title="resources")
    table.add_column("what")
    table.add_column("logical id", no_wrap=True)
    table.add_column("physical id")
    wanted = dict(PREFIXES)
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
