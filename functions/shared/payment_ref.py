"""Payment references: what travels instead of the card token.

The orders API seals the client's card token into an opaque reference, ``kms1:<base64>``: the
ciphertext of ``kms:Encrypt`` under the payment-reference key (``PAYMENT_REF_KEY_ID``) with the
encryption context ``{"order_id": <id>}``. Only the reference travels (saga input and history,
events, the bus archive, queues, DLQs, the payment workflow); only the payments step that calls
the processor (payments-tasks ``authorize``) may decrypt it, and only with the same order id: a
reference copied onto another order does not open (KMS binds the context to the ciphertext).

The orders table keeps the reference and a fingerprint of the token (``fingerprint``), enough to
recognise an idempotent retry without storing the token itself.

The KMS client is created on first use: functions that never seal or open a reference pay
nothing for it at cold start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

PREFIX = "kms1:"
CONTEXT_KEY = "order_id"
# KMS answers that say the reference is not one we can open for this order: never retried.
_INVALID = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})
# KMS answers that say "not now": the caller retries.
_TRANSIENT = frozenset(
    {
        "ThrottlingException",
        "KMSInternalException",
        "DependencyTimeoutException",
        "KeyUnavailableException",
        "LimitExceededException",
        "RequestLimitExceeded",
    }
)


class InvalidPaymentRef(ValueError):
    """The reference is malformed, or was not sealed for this order under this key: a request
    that can never succeed, so it is never retried (the payment is declined)."""


class PaymentRefUnavailable(RuntimeError):
    """KMS could not seal or open the reference right now (throttled, unreachable): transient."""


def fingerprint(order_id: str, token: str) -> str:
    """sha256 hex of the token, salted with the order id: equal for a retry of the same purchase,
    unrelated across orders (the same card on two orders does not link them)."""
    return hashlib.sha256(f"{order_id}\n{token}".encode()).hexdigest()


def _context(order_id: str) -> dict[str, str]:
    return {CONTEXT_KEY: order_id}


class KmsPaymentRefs:
    """Seals and opens payment references with one KMS key (envelope: KMS encrypts the token)."""

    def __init__(self, key_id: str, client: Any | None = None) -> None:
        self._key_id = key_id
        self._client = client

    def _kms(self) -> Any:
        if self._client is None:
            import boto3  # only the functions that seal or open a reference need KMS
            from botocore.config import Config

            config = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})
            self._client = boto3.client("kms", config=config)
        return self._client

    def seal(self, order_id: str, token: str) -> str:
        """The reference for `token` on order `order_id`."""
        response = self._call(
            "Encrypt", KeyId=self._key_id, Plaintext=token.encode(), EncryptionContext=_context(order_id)
        )
        return PREFIX + base64.b64encode(response["CiphertextBlob"]).decode("ascii")

    def open(self, order_id: str, ref: str) -> str:
        """The token sealed in `ref` for `order_id`; InvalidPaymentRef if it is not one."""
        if not isinstance(ref, str) or not ref.startswith(PREFIX):
            raise InvalidPaymentRef("not a payment reference")
        try:
            blob = base64.b64decode(ref[len(PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidPaymentRef("the payment reference is not base64") from None
        if not blob:
            raise InvalidPaymentRef("the payment reference is empty")
        response = self._call("Decrypt", KeyId=self._key_id, CiphertextBlob=blob, EncryptionContext=_context(order_id))
        try:
            return bytes(response["Plaintext"]).decode()
        except UnicodeDecodeError:
            raise InvalidPaymentRef("the payment reference does not hold a token") from None

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        method = self._kms().encrypt if operation == "Encrypt" else self._kms().decrypt
        try:
            response: dict[str, Any] = method(**request)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            # Messages name the operation and KMS's error code only, never the request.
            if code in _INVALID:
                raise InvalidPaymentRef(f"KMS {operation} refused the payment reference: {code}") from None
            if code in _TRANSIENT:
                raise PaymentRefUnavailable(f"KMS {operation} unavailable: {code}") from None
            raise
        except BotoCoreError as error:
            raise PaymentRefUnavailable(f"KMS {operation} unreachable: {type(error).__name__}") from None
        return response
