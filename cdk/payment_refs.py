"""The payment-reference key: card tokens are sealed per order under its data keys
(functions/shared/payment_ref.py).

orders-api may only generate data keys with it, payments-tasks (authorize) may only decrypt them,
both only with the payment-reference purpose as the encryption context; the order id is
authenticated by each reference itself. payments-tasks may also Decrypt with an order id as the
context: references sealed directly by KMS (``kms1:``) still open. No other function is granted
anything on it.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

CONTEXT_KEY = "order_id"  # shared.payment_ref.CONTEXT_KEY (kms1: references)
DATA_KEY_CONTEXT = {"purpose": "payment_ref"}  # shared.payment_ref.DATA_KEY_CONTEXT (kms2:)


def payment_ref_key(scope: Construct, construct_id: str) -> kms.Key:
    return kms.Key(
        scope,
        construct_id,
        enable_key_rotation=True,
        description="orderflow payment references: card tokens sealed per order (orders-api generates "
        "data keys, payments authorize decrypts them)",
        pending_window=Duration.days(7),
    )


def data_key_statement(action: str, key: kms.IKey) -> iam.PolicyStatement:
    """`action` on the key, only with the payment-reference purpose (and nothing else) as the
    encryption context."""
    ((name, value),) = DATA_KEY_CONTEXT.items()
    return iam.PolicyStatement(
        actions=[action],
        resources=[key.key_arn],
        conditions={
            "StringEquals": {f"kms:EncryptionContext:{name}": value},
            "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": [name]},
        },
    )


def payment_ref_statement(action: str, key: kms.IKey) -> iam.PolicyStatement:
    """`action` on the key, only with an order id (and nothing else) as the encryption context
    (``kms1:`` references)."""
    return iam.PolicyStatement(
        actions=[action],
        resources=[key.key_arn],
        conditions={
            "Null": {f"kms:EncryptionContext:{CONTEXT_KEY}": "false"},
            "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": [CONTEXT_KEY]},
        },
    )
