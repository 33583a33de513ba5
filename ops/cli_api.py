"""`python -m ops api | console`: the REST API called, or the web console served, signed when deployed."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from rich.console import Console

from ops import api
from ops.cli_commands import EXIT_FINDINGS, EXIT_OK
from ops.connection import connect
from ops.resources import DEFAULT_RESOURCES_FILE


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


def api_target(args: argparse.Namespace) -> ApiTarget:
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


def run_api(args: argparse.Namespace, out: Console) -> int:
    headers = {}
    for header in args.header:
        name, separator, value = header.partition(":")
        if not separator or not name.strip():
            raise ValueError(f"--header {header!r}: expected NAME:VALUE")
        headers[name.strip()] = value.strip()
    body = api.request_body(args.data)
    target = api_target(args)
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


def run_console(args: argparse.Namespace, out: Console) -> int:
    from console import graph
    from console.server import ConsoleServer

    target = api_target(args)
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
