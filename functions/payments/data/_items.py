"""DynamoDB attribute-value conversion shared by this package's DynamoDB classes."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Serialize, leaving out None: absent attributes read back as None."""
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    # Every number we store is integer cents or a counter.
    return int(value) if isinstance(value, Decimal) else value


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def condition_failed(error: ClientError) -> bool:
    """A conditional write (or a transaction of them) was refused by its condition."""
    code = error_code(error)
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = error.response.get("CancellationReasons") or []
        codes = {reason.get("Code") for reason in reasons}
        # only a refused condition is a business "no"; conflicts and throttling are retried
        return "ConditionalCheckFailed" in codes and codes <= {"ConditionalCheckFailed", "None", None}
    return False
