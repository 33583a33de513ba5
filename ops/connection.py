"""Where `python -m ops` works: the clients and resources of a deployed stack or of the local cloud."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

import boto3
from botocore.exceptions import ClientError

from ops.clients import Clients, local_session
from ops.resources import DEFAULT_RESOURCES_FILE, ResourceNotFound, Resources


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
