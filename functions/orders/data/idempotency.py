"""The Powertools idempotency store for POST /orders requests that carry an Idempotency-Key."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from shared.dynamodb import client as dynamodb_client


def idempotency_store(table_name: str, client: Any | None = None) -> DynamoDBPersistenceLayer:
    # Table contract: key `id`, TTL attribute `expiration` (the Powertools defaults, named here on purpose).
    return DynamoDBPersistenceLayer(
        table_name=table_name,
        key_attr="id",
        expiry_attr="expiration",
        boto3_client=client or dynamodb_client(),
    )
