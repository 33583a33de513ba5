"""The payment-reference key: card tokens are sealed per order with it (functions/shared/payment_ref.py).

orders-api may only Encrypt with it, payments-tasks (authorize) may only Decrypt, and both only
with an order id as the encryption context, so a reference opens for its own order only. No
other function is granted anything on it.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

CONTEXT_KEY = "order_id"  # shared.payment_ref.CONTEXT_KEY


def payment_ref_key(scope: Construct, construct_id: str) -> kms.Key:
    return kms.Key(
        scope,
        construct_id,
        enable_key_rotation=True,
        description="orderflow payment references: card tokens sealed per order (orders-api encrypts, "
        "payments authorize decrypts)",
        pending_window=Duration.days(7),
    )


def payment_ref_statement(action: str, key: kms.IKey) -> iam.PolicyStatement:
    """`action` on the key, only with an order id (and nothing else) as the encryption context."""
    return iam.PolicyStatement(
        actions=[action],
        resources=[key.key_arn],
        conditions={
            "Null": {f"kms:EncryptionContext:{CONTEXT_KEY}": "false"},
            "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": [CONTEXT_KEY]},
        },
    )
