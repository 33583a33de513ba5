"""Payment references: a card token sealed under a cached KMS data key for one order, opened only
for that order; references sealed directly by KMS (kms1) still open."""

from __future__ import annotations

import base64
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from shared.payment_ref import (
    DATA_KEY_MAX_AGE_SECONDS,
    DATA_KEY_MAX_MESSAGES,
    PREFIX,
    PREFIX_V1,
    InvalidPaymentRef,
    KmsPaymentRefs,
    PaymentRefUnavailable,
    fingerprint,
)


@pytest.fixture
def key_id(aws: None) -> str:
    return str(boto3.client("kms").create_key(Description="payment refs")["KeyMetadata"]["Arn"])


@pytest.fixture
def refs(key_id: str) -> KmsPaymentRefs:
    return KmsPaymentRefs(key_id)


class CountingKms:
    """The real (moto) KMS client, counting the requests made through it."""

    def __init__(self) -> None:
        self.client = boto3.client("kms")
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.client, name)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_reference_opens_for_its_order_and_does_not_carry_the_token(refs):
    ref = refs.seal("o-1", "tok_visa")

    assert ref.startswith(PREFIX)
    assert "tok_visa" not in ref
    assert b"tok_visa" not in base64.b64decode(ref[len(PREFIX) :])
    assert refs.open("o-1", ref) == "tok_visa"
    assert refs.seal("o-1", "tok_visa") != ref  # every sealing is a new ciphertext


def test_a_reference_does_not_open_for_another_order(refs):
    ref = refs.seal("o-1", "tok_visa")

    with pytest.raises(InvalidPaymentRef) as refused:
        refs.open("o-2", ref)
    assert "tok_visa" not in str(refused.value)


@pytest.mark.parametrize(
    "ref", ["tok_visa", "", "kms1:", "kms1:not base64!", "kms2:", "kms2:dG9r", "kms2:AAA=", "kms3:dG9r"]
)
def test_what_is_not_a_reference_is_refused_without_asking_kms(ref):
    class NoKms:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError("KMS must not be called")

    with pytest.raises(InvalidPaymentRef):
        KmsPaymentRefs("key", client=NoKms()).open("o-1", ref)


def test_one_data_key_seals_many_orders_and_one_decrypt_opens_them(key_id):
    sealing, opening = CountingKms(), CountingKms()
    sealer, opener = KmsPaymentRefs(key_id, client=sealing), KmsPaymentRefs(key_id, client=opening)

    refs = {f"o-{n}": sealer.seal(f"o-{n}", f"tok_{n}") for n in range(50)}

    assert {order: opener.open(order, ref) for order, ref in refs.items()} == {f"o-{n}": f"tok_{n}" for n in range(50)}
    assert sealing.calls == ["generate_data_key"]
    assert opening.calls == ["decrypt"]


def test_a_data_key_is_replaced_when_it_is_too_old_or_has_sealed_enough(key_id, monkeypatch):
    clock, kms = Clock(), CountingKms()
    sealer = KmsPaymentRefs(key_id, client=kms, clock=clock)
    first = sealer.seal("o-1", "tok_visa")
    clock.now += DATA_KEY_MAX_AGE_SECONDS - 1
    same = sealer.seal("o-2", "tok_visa")
    clock.now += 1
    fresh = sealer.seal("o-3", "tok_visa")

    def data_key(ref: str) -> bytes:
        blob = base64.b64decode(ref[len(PREFIX) :])
        return blob[2 : 2 + int.from_bytes(blob[:2], "big")]

    assert data_key(first) == data_key(same) != data_key(fresh)
    assert kms.calls == ["generate_data_key", "generate_data_key"]

    monkeypatch.setattr("shared.payment_ref.DATA_KEY_MAX_MESSAGES", 2)
    sealer.seal("o-4", "tok_visa")
    sealer.seal("o-5", "tok_visa")
    assert kms.calls == ["generate_data_key"] * 3
    assert DATA_KEY_MAX_MESSAGES >= 2


def test_an_opened_data_key_is_asked_for_again_once_it_expires(key_id):
    clock, kms = Clock(), CountingKms()
    ref = KmsPaymentRefs(key_id).seal("o-1", "tok_visa")
    opener = KmsPaymentRefs(key_id, client=kms, clock=clock)
    opener.open("o-1", ref)
    opener.open("o-1", ref)
    clock.now += DATA_KEY_MAX_AGE_SECONDS
    assert opener.open("o-1", ref) == "tok_visa"
    assert kms.calls == ["decrypt", "decrypt"]


def test_a_reference_sealed_directly_by_kms_still_opens_for_its_order_only(key_id, refs):
    blob = boto3.client("kms").encrypt(KeyId=key_id, Plaintext=b"tok_visa", EncryptionContext={"order_id": "o-1"})
    ref = PREFIX_V1 + base64.b64encode(blob["CiphertextBlob"]).decode()

    assert refs.open("o-1", ref) == "tok_visa"
    with pytest.raises(InvalidPaymentRef):
        refs.open("o-2", ref)


@pytest.mark.parametrize("part", ["data key", "nonce", "sealed token", "tag"])
def test_a_tampered_reference_does_not_open(refs, part):
    blob = bytearray(base64.b64decode(refs.seal("o-1", "tok_visa")[len(PREFIX) :]))
    end_of_data_key = 2 + int.from_bytes(blob[:2], "big")
    flip = {"data key": end_of_data_key - 1, "nonce": end_of_data_key, "sealed token": -17, "tag": -1}[part]
    blob[flip] ^= 0x01

    with pytest.raises(InvalidPaymentRef) as refused:
        refs.open("o-1", PREFIX + base64.b64encode(bytes(blob)).decode())
    assert "tok_visa" not in str(refused.value)


def _failing(error: Exception) -> Any:
    class Failing:
        def encrypt(self, **_: Any) -> Any:
            raise error

        decrypt = generate_data_key = encrypt

    return Failing()


@pytest.mark.parametrize("code", ["ThrottlingException", "KMSInternalException", "DependencyTimeoutException"])
def test_kms_not_answering_is_transient(code):
    refs = KmsPaymentRefs("key", client=_failing(ClientError({"Error": {"Code": code}}, "Decrypt")))

    with pytest.raises(PaymentRefUnavailable):
        refs.open("o-1", "kms1:dG9r")
    with pytest.raises(PaymentRefUnavailable):
        refs.seal("o-1", "tok_visa")
    sealed = KmsPaymentRefs("key", client=_DataKeys()).seal("o-1", "tok_visa")
    with pytest.raises(PaymentRefUnavailable):
        refs.open("o-1", sealed)


class _DataKeys:
    def generate_data_key(self, **_: Any) -> dict[str, bytes]:
        return {"Plaintext": bytes(32), "CiphertextBlob": b"edk"}


def test_kms_unreachable_is_transient():
    refs = KmsPaymentRefs("key", client=_failing(EndpointConnectionError(endpoint_url="https://kms")))

    with pytest.raises(PaymentRefUnavailable):
        refs.seal("o-1", "tok_visa")


def test_the_kms_client_is_created_on_first_use_only(aws, monkeypatch):
    created: list[str] = []
    real = boto3.client
    monkeypatch.setattr(boto3, "client", lambda name, **kw: created.append(name) or real(name, **kw))

    refs = KmsPaymentRefs("key")
    assert created == []
    with pytest.raises(ClientError):  # moto: no such key
        refs.seal("o-1", "tok_visa")
    assert created == ["kms"]


def test_the_fingerprint_recognises_the_same_token_on_the_same_order_only():
    assert fingerprint("o-1", "tok_visa") == fingerprint("o-1", "tok_visa")
    assert fingerprint("o-1", "tok_visa") != fingerprint("o-1", "tok_mastercard")
    assert fingerprint("o-1", "tok_visa") != fingerprint("o-2", "tok_visa")
    assert len(fingerprint("o-1", "tok_visa")) == 64 and "tok_visa" not in fingerprint("o-1", "tok_visa")
