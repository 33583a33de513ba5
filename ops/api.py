"""`python -m ops api`: call orderflow's REST API, signed with SigV4 when it is deployed.

Every deployed route requires AWS_IAM authorization: the request is signed for `execute-api`
with the caller's own AWS credentials (botocore signs it; no other tool). The local cloud's API
accepts unsigned requests, so a local call is sent as it is.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class ApiAnswer:
    status: int
    headers: dict[str, str]
    body: Any  # the JSON document, or the text when it is not JSON


def request_body(data: str | None) -> bytes | None:
    """`--data`: a JSON document, or `@file` holding one; checked before anything is sent."""
    if data is None:
        return None
    text = Path(data[1:]).read_text() if data.startswith("@") else data
    try:
        json.loads(text)
    except ValueError as error:
        raise ValueError(f"--data is not JSON: {error}") from None
    return text.encode()


def join(base_url: str, path: str) -> str:
    if not path.startswith("/"):
        raise ValueError(f"the path must start with '/': {path!r}")
    return base_url.rstrip("/") + path


def signed_headers(
    method: str, url: str, body: bytes | None, headers: dict[str, str], credentials: Credentials, region: str
) -> dict[str, str]:
    """The headers of a SigV4-signed request for API Gateway (`execute-api`)."""
    request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
    SigV4Auth(credentials, "execute-api", region).add_auth(request)
    return dict(request.headers.items())


def call(
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    credentials: Credentials | None = None,
    region: str | None = None,
) -> ApiAnswer:
    """Send one request; signed when credentials are given. Any HTTP status is an answer."""
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    sent = {"Accept": "application/json", **(headers or {})}
    if body is not None:
        sent.setdefault("Content-Type", "application/json")
    if credentials is not None:
        if not region:
            raise ValueError("signing needs a region (--region or AWS_REGION)")
        sent = signed_headers(method, url, body, sent, credentials, region)
    request = urllib.request.Request(url, data=body, method=method, headers=sent)  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status, answer_headers, raw = response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        status, answer_headers, raw = error.code, dict(error.headers.items()), error.read()
    text = raw.decode("utf-8", errors="replace")
    try:
        parsed: Any = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return ApiAnswer(status=status, headers=answer_headers, body=parsed)


def stack_api_url(cloudformation: Any, stack_name: str) -> str:
    """The deployed stack's `ApiUrl` output."""
    [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    for output in stack.get("Outputs", []):
        if output.get("OutputKey") == "ApiUrl":
            return str(output["OutputValue"])
    raise LookupError(f"stack {stack_name} has no ApiUrl output")
