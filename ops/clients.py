"""The AWS clients the toolkit uses, against AWS or against the local cloud's endpoint."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Account-based DynamoDB endpoints would bypass a custom endpoint's host; streams need it off on moto.
_DYNAMODB_CONFIG = Config(account_id_endpoint_mode="disabled", retries={"mode": "standard", "max_attempts": 5})
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})
# Starting a saga again: never retried by the SDK (a retried StartSyncExecution whose answer was
# slow would start a second execution of one order), and waited for longer than the saga's own
# 4-minute timeout, so a slow saga is never mistaken for a lost one.
_SAGA_RUN_CONFIG = Config(read_timeout=300, retries={"mode": "standard", "total_max_attempts": 1})


@dataclass(frozen=True)
class Clients:
    dynamodb: Any
    sqs: Any
    events: Any
    stepfunctions: Any
    dynamodbstreams: Any
    lambda_: Any
    cloudformation: Any
    saga_runner: Any = None  # stepfunctions without SDK retries, for StartSyncExecution

    @classmethod
    def from_session(cls, session: boto3.Session, endpoint_url: str | None = None) -> Clients:
        def client(service: str, config: Config = _CONFIG) -> Any:
            if endpoint_url:
                # host prefixes (sync-states., ...) would not resolve on one local endpoint
                config = config.merge(Config(inject_host_prefix=False))
            with _SESSION_LOCK:  # making clients from one session is not thread-safe
                return session.client(service, endpoint_url=endpoint_url, config=config)

        return cls(
            dynamodb=client("dynamodb", _DYNAMODB_CONFIG),
            sqs=client("sqs"),
            events=client("events"),
            stepfunctions=client("stepfunctions"),
            dynamodbstreams=client("dynamodbstreams", _DYNAMODB_CONFIG),
            lambda_=client("lambda"),
            cloudformation=client("cloudformation"),
            saga_runner=client("stepfunctions", _SAGA_RUN_CONFIG),
        )


def as_clients(session_or_clients: boto3.Session | Clients, endpoint_url: str | None = None) -> Clients:
    if isinstance(session_or_clients, Clients):
        return session_or_clients
    return Clients.from_session(session_or_clients, endpoint_url)


_SESSION_LOCK = threading.Lock()


@cache
def local_session(region: str | None = None) -> boto3.Session:
    """A session for the local cloud: moto accepts any key, so placeholders keep real ones out of it.

    One per region and process: a session parses botocore's endpoint and service models once, so
    its next clients take milliseconds rather than the ~100 ms a fresh session's first one takes."""
    return boto3.Session(
        region_name=region or "us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - a placeholder for the local endpoint, not a secret
    )
