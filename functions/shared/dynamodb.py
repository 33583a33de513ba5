"""DynamoDB plumbing every service's adapters share: items, error codes, conditions, clients.

Items travel in DynamoDB's wire format (``{"S": ...}``) through plain clients; ``to_item`` and
``from_item`` convert, with every number read back as an int (orderflow stores cents, counts,
versions and epoch seconds only). ``condition_failed`` tells a business "no" (a refused
condition) from what must be retried (throttling, a transaction conflict).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from shared.dependencies import dependency

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CANCELED = "TransactionCanceledException"


# boto3 is imported by the first client or conversion, not with this module: a handler that
# imports an adapter's helpers does not pay for boto3 at init.


@dependency
def client() -> Any:
    """One DynamoDB client per process: every client costs cold-start time, and they are thread-safe."""
    import boto3

    return boto3.client("dynamodb")


@dependency
def resource() -> Any:
    """One DynamoDB resource per process, for adapters that use the Table API."""
    import boto3

    return boto3.resource("dynamodb")


@cache
def _serializer() -> TypeSerializer:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


@cache
def _deserializer() -> TypeDeserializer:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def table(name: str, on: Any | None = None) -> Any:
    """A Table of ``on`` (a boto3 DynamoDB resource), the process's own resource by default."""
    return (on or resource()).Table(name)


def plain(value: Any) -> Any:
    """DynamoDB's Decimals back to ints (a non-integral number stays a float)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [plain(inner) for inner in value]
    return value


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Serialize, leaving out None: absent attributes read back as None."""
    serializer = _serializer()
    return {name: serializer.serialize(value) for name, value in values.items() if value is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item in wire format (a GetItem answer, a failed condition's item) as plain values."""
    deserializer = _deserializer()
    return {name: plain(deserializer.deserialize(value)) for name, value in item.items()}


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def cancellation_codes(error: Exception) -> list[str | None]:
    """Per action of a cancelled transaction: "ConditionalCheckFailed", "TransactionConflict", "None"..."""
    response = getattr(error, "response", None) or {}
    return [reason.get("Code") for reason in response.get("CancellationReasons") or []]


def condition_failed(error: Exception) -> bool:
    """A conditional write (or a transaction of them) was refused by its condition, nothing else."""
    code = error_code(error)
    if code == CONDITION_FAILED:
        return True
    if code == TRANSACTION_CANCELED:
        codes = set(cancellation_codes(error))
        # only a refused condition is a business "no"; conflicts and throttling are retried
        return "ConditionalCheckFailed" in codes and codes <= {"ConditionalCheckFailed", "None", None}
    return False


def conflict_only(error: Exception) -> bool:
    """A transaction cancelled only because other requests held its items: retry it."""
    if error_code(error) != TRANSACTION_CANCELED:
        return False
    codes = set(cancellation_codes(error))
    return "TransactionConflict" in codes and codes <= {"TransactionConflict", "None", None}
