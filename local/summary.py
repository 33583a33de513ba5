"""What `python -m local serve` prints once the cloud is up: where it is, its routes and resources, what to try."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(
    cloud: Any,
    console: Console,
    resources_file: Path | None = None,
    mounted: list[str] | None = None,
    hints: list[str] | None = None,
) -> None:
    endpoints = Table(title="local cloud", show_header=False)
    endpoints.add_column(style="bold")
    endpoints.add_column()
    if cloud.apis:
        endpoints.add_row("API", cloud.api_url)
    for prefix in mounted or []:
        endpoints.add_row("also served", f"{cloud.api_url}{prefix}/")
    endpoints.add_row("AWS endpoint (moto)", cloud.endpoint_url)
    endpoints.add_row("region / account", f"{cloud.region} / {cloud.account_id}")
    endpoints.add_row("function logs", str(cloud.log_dir))
    if resources_file is not None:
        endpoints.add_row("resources (ops)", str(resources_file))
    console.print(endpoints)

    if cloud.apis:
        routes = Table(title="routes")
        routes.add_column("method")
        routes.add_column("path")
        routes.add_column("integration", overflow="fold")
        for route in cloud.routes():
            routes.add_row(route.method, route.path, route.function_name or route.integration_type)
        console.print(routes)

    resources = Table(title="resources")
    resources.add_column("type")
    resources.add_column("name", overflow="fold")
    for resource in sorted(cloud.resources.values(), key=lambda r: (r.type, r.logical_id)):
        if resource.emulated and resource.type in (
            "AWS::DynamoDB::Table",
            "AWS::DynamoDB::GlobalTable",
            "AWS::SQS::Queue",
            "AWS::SNS::Topic",
            "AWS::Events::EventBus",
            "AWS::StepFunctions::StateMachine",
            "AWS::Lambda::Function",
        ):
            resources.add_row(resource.type.removeprefix("AWS::"), resource.name)
    console.print(resources)

    console.print("[bold]try[/]")
    if cloud.apis:
        readable = [r for r in cloud.routes() if r.method in ("GET", "ANY")]
        readable.sort(key=lambda r: (r.path.count("{"), r.path))
        if readable:
            path = re.sub(r"\{([^}+]+)\+?\}", r"\1", readable[0].path)
            console.print(f"  curl -s {cloud.api_url}{path}", markup=False, soft_wrap=True)
    table = next(cloud.table_names(), None)
    credentials = "AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local"
    if table:
        console.print(
            f"  {credentials} aws --endpoint-url {cloud.endpoint_url} --region {cloud.region} "
            f"dynamodb scan --table-name {table}",
            markup=False,
            soft_wrap=True,
        )
    values = {
        "endpoint": cloud.endpoint_url,
        "api": cloud.api_url if cloud.apis else "",
        "region": cloud.region,
        "resources": str(resources_file or ""),
    }
    for hint in hints or []:
        console.print(f"  {hint.format(**values)}", markup=False, soft_wrap=True)
    console.print("Ctrl-C stops everything.", style="dim")
