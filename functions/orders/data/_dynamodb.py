"""Small helpers shared by the DynamoDB implementations of this service."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

_deserializer = TypeDeserializer()


@cache
def dynamodb_resource() -> Any:
    """One DynamoDB resource per process: every client costs cold-start time, and they are thread-safe."""
    return boto3.resource("dynamodb")


@cache
def dynamodb_client() -> Any:
    """A plain client (the resource's own client re-serialises already-typed values)."""
    return boto3.client("dynamodb")


def table(name: str, resource: Any | None = None) -> Any:
    return (resource or dynamodb_resource()).Table(name)


def plain(value: Any) -> Any:
    """DynamoDB's Decimals back to ints (all our numbers are integers: cents, counts, ranks)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [plain(inner) for inner in value]
    return value


def from_wire(item: dict[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's wire format (as returned with a failed condition) as plain values."""
    return plain({key: _deserializer.deserialize(value) for key, value in item.items()})


def condition_failed(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
