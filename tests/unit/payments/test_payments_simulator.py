"""The simulated card processor in test mode, on its DynamoDB ledger (moto)."""

from __future__ import annotations

import pytest

from payments.data.dynamodb import DynamoSimulatorLedger
from payments.data.provider import CardDeclined, PaymentProviderRejected, PaymentProviderUnavailable
from payments.data.simulated_provider import SimulatedCardProcessor


@pytest.fixture
def processor(table: str) -> SimulatedCardProcessor:
    return SimulatedCardProcessor(DynamoSimulatorLedger(table))


def fresh(table: str) -> SimulatedCardProcessor:
    """A new instance over the same ledger, as the next Lambda invocation would build it."""
    return SimulatedCardProcessor(DynamoSimulatorLedger(table))


def test_tok_visa_authorizes_and_a_repeated_key_returns_the_same_authorization(processor, table, items):
    first = processor.authorize("authorize:o-1", "tok_visa", 1000)
    again = fresh(table).authorize("authorize:o-1", "tok_visa", 1000)

    assert first == again
    assert first.startswith("auth_")
    assert len(items("SIM#AUTH#")) == 1
    assert processor.authorize("authorize:o-2", "tok_visa", 1000) != first


def test_reusing_a_key_for_another_amount_is_refused(processor):
    processor.authorize("authorize:o-1", "tok_visa", 1000)
    with pytest.raises(PaymentProviderRejected):
        processor.authorize("authorize:o-1", "tok_visa", 2000)


def test_tok_charge_declined_is_declined(processor, items):
    with pytest.raises(CardDeclined) as declined:
        processor.authorize("authorize:o-1", "tok_chargeDeclined", 1000)
    assert declined.value.code == "card_declined"
    assert items("SIM#AUTH#") == []


@pytest.mark.parametrize("token", ["tok_mastercard", "", "TOK_VISA", "tok_visa "])
def test_any_other_token_is_declined_as_invalid(processor, token):
    with pytest.raises(CardDeclined) as declined:
        processor.authorize("authorize:o-1", token, 1000)
    assert declined.value.code == "invalid_token"


def test_tok_transient_fails_twice_per_key_then_authorizes_across_invocations(table, items):
    for _ in range(2):
        with pytest.raises(PaymentProviderUnavailable):
            fresh(table).authorize("authorize:o-1", "tok_transient", 1000)
    authorization_id = fresh(table).authorize("authorize:o-1", "tok_transient", 1000)

    assert authorization_id == fresh(table).authorize("authorize:o-1", "tok_transient", 1000)
    # the attempt counter is per key: another order starts from the beginning
    with pytest.raises(PaymentProviderUnavailable):
        fresh(table).authorize("authorize:o-2", "tok_transient", 1000)
    assert len(items("SIM#KEY#")) == 2


def test_tok_unavailable_always_fails_transiently(processor, items):
    for _ in range(4):
        with pytest.raises(PaymentProviderUnavailable):
            processor.authorize("authorize:o-1", "tok_unavailable", 1000)
    assert items("SIM#AUTH#") == []


def test_a_capture_above_the_authorization_is_refused(processor, items):
    """As real processors do: the authorization holds the full amount (tax included), no more."""
    over = processor.authorize("authorize:o-1", "tok_visa", 1083)
    with pytest.raises(PaymentProviderRejected):
        processor.capture(over, 1084, idempotency_key="capture:o-1")
    assert items("SIM#CAP#") == []
    assert items("SIM#AUTH#")[0]["state"]["S"] == "AUTHORIZED", "a refused capture changes nothing"

    exact = processor.authorize("authorize:o-2", "tok_visa", 1083)
    assert processor.capture(exact, 1083, idempotency_key="capture:o-2").startswith("cap_")


def test_find_by_idempotency_key(processor):
    assert processor.find_authorization("authorize:o-1") is None
    assert processor.find_capture("capture:o-1") is None
    authorization_id = processor.authorize("authorize:o-1", "tok_visa", 1083)
    found = processor.find_authorization("authorize:o-1")
    assert (found.authorization_id, found.amount_cents, found.state) == (authorization_id, 1083, "AUTHORIZED")

    capture_id = processor.capture(authorization_id, 1083, idempotency_key="capture:o-1")
    processor.refund(capture_id, 1000, idempotency_key="refund:o-1")

    capture = processor.find_capture("capture:o-1")
    assert (capture.capture_id, capture.authorization_id, capture.amount_cents, capture.refunded_cents) == (
        capture_id,
        authorization_id,
        1083,
        1000,
    )
    assert processor.find_authorization("authorize:o-1").state == "CAPTURED"
    with pytest.raises(CardDeclined):
        processor.authorize("authorize:o-2", "tok_chargeDeclined", 1083)
    assert processor.find_authorization("authorize:o-2") is None, "a decline leaves nothing to find"


def test_an_authorization_is_captured_once(processor, items):
    authorization_id = processor.authorize("authorize:o-1", "tok_visa", 1083)

    capture_id = processor.capture(authorization_id, 1083, idempotency_key="capture:o-1")

    assert processor.capture(authorization_id, 1083, idempotency_key="capture:o-1") == capture_id, "replay"
    with pytest.raises(PaymentProviderRejected):
        processor.capture(authorization_id, 1083, idempotency_key="capture:other")
    with pytest.raises(PaymentProviderRejected):
        processor.capture(authorization_id, 500, idempotency_key="capture:o-1")
    assert len(items("SIM#CAP#")) == 1


def test_void_releases_an_authorization_once_and_forbids_capturing_it(processor):
    authorization_id = processor.authorize("authorize:o-1", "tok_visa", 1000)

    processor.void(authorization_id)
    processor.void(authorization_id)  # idempotent

    with pytest.raises(PaymentProviderRejected):
        processor.capture(authorization_id, 1000, idempotency_key="capture:o-1")


def test_a_captured_authorization_cannot_be_voided(processor):
    authorization_id = processor.authorize("authorize:o-1", "tok_visa", 1000)
    processor.capture(authorization_id, 1000, idempotency_key="capture:o-1")
    with pytest.raises(PaymentProviderRejected):
        processor.void(authorization_id)


def test_refunds_never_exceed_what_was_captured(processor, items):
    authorization_id = processor.authorize("authorize:o-1", "tok_visa", 1000)
    capture_id = processor.capture(authorization_id, 1000, idempotency_key="capture:o-1")

    with pytest.raises(PaymentProviderRejected):
        processor.refund(capture_id, 1001, idempotency_key="refund:too-much")
    part = processor.refund(capture_id, 600, idempotency_key="refund:1")
    assert processor.refund(capture_id, 600, idempotency_key="refund:1") == part, "a replay refunds nothing more"
    with pytest.raises(PaymentProviderRejected):
        processor.refund(capture_id, 401, idempotency_key="refund:2")
    processor.refund(capture_id, 400, idempotency_key="refund:2")

    [capture] = items("SIM#CAP#")
    assert capture["refunded_cents"]["N"] == "1000"
    assert len(items("SIM#REF#")) == 2


def test_unknown_ids_are_refused(processor):
    with pytest.raises(PaymentProviderRejected):
        processor.capture("auth_nope", 100, idempotency_key="capture:x")
    with pytest.raises(PaymentProviderRejected):
        processor.refund("cap_nope", 100, idempotency_key="refund:x")
    with pytest.raises(PaymentProviderRejected):
        processor.void("auth_nope")
