"""Payment references: a card token sealed with KMS for one order, opened only for that order."""

from __future__ import annotations

import base64
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from shared.payment_ref import (
    PREFIX,
    InvalidPaymentRef,
    KmsPaymentRefs,
    PaymentRefUnavailable,
    fingerprint,
)


@pytest.fixture
def refs(aws: None) -> KmsPaymentRefs:
    key_id = boto3.client("kms").create_key(Description="payment refs")["KeyMetadata"]["Arn"]
    return KmsPaymentRefs(key_id)


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


@pytest.mark.parametrize("ref", ["tok_visa", "", "kms1:", "kms1:not base64!", "kms2:dG9r"])
def test_what_is_not_a_reference_is_refused_without_asking_kms(ref):
    class NoKms:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError("KMS must not be called")

    with pytest.raises(InvalidPaymentRef):
        KmsPaymentRefs("key", client=NoKms()).open("o-1", ref)


def _failing(error: Exception) -> Any:
    class Failing:
        def encrypt(self, **_: Any) -> Any:
            raise error

        decrypt = encrypt

    return Failing()


@pytest.mark.parametrize("code", ["ThrottlingException", "KMSInternalException", "DependencyTimeoutException"])
def test_kms_not_answering_is_transient(code):
    refs = KmsPaymentRefs("key", client=_failing(ClientError({"Error": {"Code": code}}, "Decrypt")))

    with pytest.raises(PaymentRefUnavailable):
        refs.open("o-1", "kms1:dG9r")
    with pytest.raises(PaymentRefUnavailable):
        refs.seal("o-1", "tok_visa")


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
