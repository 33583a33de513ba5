"""Payment references: what travels instead of the card token.

The orders API seals the client's card token into an opaque reference, ``kms2:<base64>``, an
envelope under the payment-reference key (``PAYMENT_REF_KEY_ID``):

- a 256-bit data key from ``kms:GenerateDataKey`` (encryption context
  ``{"purpose": "payment_ref"}``), kept by the sealing process for at most
  ``DATA_KEY_MAX_AGE_SECONDS`` and ``DATA_KEY_MAX_MESSAGES`` references;
- the token encrypted with AES-256-GCM under that data key, a fresh 96-bit nonce per reference,
  and the order id as additional authenticated data.

The reference carries the data key's KMS ciphertext, the nonce and the sealed token. Only the
reference travels (saga input and history, events, the bus archive, queues, DLQs, the payment
workflow); only the payments step that calls the processor (payments-tasks ``authorize``) may
open it: ``kms:Decrypt`` of the data key (granted to that role alone, with that context), kept
by the opening process for the same time. The order id is authenticated, so a reference copied
onto another order does not open.

A cached data key turns two KMS requests per order (an Encrypt in the API, a Decrypt in
payments) into two per data key, whatever the number of orders (docs/decisions.md, 13).

``kms1:<base64>`` references, sealed directly by ``kms:Encrypt`` with the context
``{"order_id": <id>}`` before data keys were cached, still open: they may wait in a DLQ, a
parked saga or the bus archive.

The orders table keeps the reference and a fingerprint of the token (``fingerprint``), enough to
recognise an idempotent retry without storing the token itself.

The KMS client and the cipher are loaded on first use: functions that never seal or open a
reference pay nothing for them at cold start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

PREFIX = "kms2:"
PREFIX_V1 = "kms1:"
CONTEXT_KEY = "order_id"  # kms1: the order id is the encryption context
DATA_KEY_CONTEXT_KEY = "purpose"  # kms2: the data key's encryption context
DATA_KEY_CONTEXT = {DATA_KEY_CONTEXT_KEY: "payment_ref"}
DATA_KEY_MAX_AGE_SECONDS = 300.0
DATA_KEY_MAX_MESSAGES = 100_000
OPENED_KEYS_CAPACITY = 64
NONCE_BYTES = 12
TAG_BYTES = 16
_LENGTH = struct.Struct(">H")  # the length of the data key's KMS ciphertext

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


def _aad(order_id: str) -> bytes:
    return PREFIX.encode() + order_id.encode()


class _DataKey:
    __slots__ = ("cipher", "encrypted", "expires", "uses")

    def __init__(self, plaintext: bytes, encrypted: bytes, expires: float) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # loaded with the first key

        self.cipher = AESGCM(plaintext)
        self.encrypted = encrypted
        self.expires = expires
        self.uses = 0


class KmsPaymentRefs:
    """Seals and opens payment references with one KMS key (envelope: a cached KMS data key
    encrypts the tokens). One instance per process: its data keys live as long as it does."""

    def __init__(self, key_id: str, client: Any | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._key_id = key_id
        self._client = client
        self._clock = clock
        self._sealing: _DataKey | None = None
        self._opened: OrderedDict[bytes, _DataKey] = OrderedDict()

    def _kms(self) -> Any:
        if self._client is None:
            import boto3  # only the functions that seal or open a reference need KMS
            from botocore.config import Config

            config = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 3})
            self._client = boto3.client("kms", config=config)
        return self._client

    def seal(self, order_id: str, token: str) -> str:
        """The reference for `token` on order `order_id`."""
        key = self._sealing_key()
        key.uses += 1
        nonce = os.urandom(NONCE_BYTES)
        sealed = key.cipher.encrypt(nonce, token.encode(), _aad(order_id))
        blob = _LENGTH.pack(len(key.encrypted)) + key.encrypted + nonce + sealed
        return PREFIX + base64.b64encode(blob).decode("ascii")

    def open(self, order_id: str, ref: str) -> str:
        """The token sealed in `ref` for `order_id`; InvalidPaymentRef if it is not one."""
        if not isinstance(ref, str) or not ref.startswith((PREFIX, PREFIX_V1)):
            raise InvalidPaymentRef("not a payment reference")
        try:
            blob = base64.b64decode(ref[len(PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise InvalidPaymentRef("the payment reference is not base64") from None
        if not blob:
            raise InvalidPaymentRef("the payment reference is empty")
        if ref.startswith(PREFIX_V1):
            return self._open_v1(order_id, blob)
        return self._open_v2(order_id, blob)

    def _open_v2(self, order_id: str, blob: bytes) -> str:
        from cryptography.exceptions import InvalidTag

        if len(blob) < _LENGTH.size:
            raise InvalidPaymentRef("the payment reference is truncated")
        (length,) = _LENGTH.unpack_from(blob)
        body = _LENGTH.size + length
        if length == 0 or len(blob) < body + NONCE_BYTES + TAG_BYTES:
            raise InvalidPaymentRef("the payment reference is truncated")
        encrypted, nonce, sealed = (
            blob[_LENGTH.size : body],
            blob[body : body + NONCE_BYTES],
            blob[body + NONCE_BYTES :],
        )
        key = self._opening_key(encrypted)
        try:
            plaintext = key.cipher.decrypt(nonce, sealed, _aad(order_id))
        except InvalidTag:
            raise InvalidPaymentRef("the payment reference was not sealed for this order") from None
        try:
            return plaintext.decode()
        except UnicodeDecodeError:
            raise InvalidPaymentRef("the payment reference does not hold a token") from None

    def _open_v1(self, order_id: str, blob: bytes) -> str:
        response = self._call("Decrypt", KeyId=self._key_id, CiphertextBlob=blob, EncryptionContext=_context(order_id))
        try:
            return bytes(response["Plaintext"]).decode()
        except UnicodeDecodeError:
            raise InvalidPaymentRef("the payment reference does not hold a token") from None

    def _sealing_key(self) -> _DataKey:
        now = self._clock()
        key = self._sealing
        if key is None or now >= key.expires or key.uses >= DATA_KEY_MAX_MESSAGES:
            response = self._call(
                "GenerateDataKey", KeyId=self._key_id, KeySpec="AES_256", EncryptionContext=DATA_KEY_CONTEXT
            )
            key = _DataKey(
                bytes(response["Plaintext"]), bytes(response["CiphertextBlob"]), now + DATA_KEY_MAX_AGE_SECONDS
            )
            self._sealing = key
        return key

    def _opening_key(self, encrypted: bytes) -> _DataKey:
        now = self._clock()
        key = self._opened.get(encrypted)
        if key is not None and now < key.expires:
            self._opened.move_to_end(encrypted)
            return key
        response = self._call(
            "Decrypt", KeyId=self._key_id, CiphertextBlob=encrypted, EncryptionContext=DATA_KEY_CONTEXT
        )
        plaintext = bytes(response["Plaintext"])
        if len(plaintext) != 32:
            raise InvalidPaymentRef("the payment reference does not hold a data key")
        key = _DataKey(plaintext, encrypted, now + DATA_KEY_MAX_AGE_SECONDS)
        self._opened[encrypted] = key
        while len(self._opened) > OPENED_KEYS_CAPACITY:
            self._opened.popitem(last=False)
        return key

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        methods = {"Decrypt": "decrypt", "GenerateDataKey": "generate_data_key"}
        method = getattr(self._kms(), methods[operation])
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
