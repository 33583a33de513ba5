"""The PAY# state machine: every step idempotent, forward-only, announcing its outcome."""

from __future__ import annotations

from dataclasses import replace

import pytest

from payments.data.dynamodb import DynamoPaymentRepository, DynamoSimulatorLedger
from payments.data.provider import PaymentProviderUnavailable
from payments.data.simulated_provider import SimulatedCardProcessor
from payments.domain.errors import InvalidPaymentState, PaymentNotFound
from payments.domain.models import PaymentState
from payments.logic import Payments
from shared.events import event_id_for
from tests.unit.payments.conftest import TokensAsRefs


@pytest.fixture
def repository(table: str) -> DynamoPaymentRepository:
    return DynamoPaymentRepository(table)


def build(table: str, publisher, tax_rate_bps: int = 825) -> Payments:
    return Payments(
        DynamoPaymentRepository(table),
        SimulatedCardProcessor(DynamoSimulatorLedger(table)),
        publisher,
        tax_rate_bps,
        payment_refs=TokensAsRefs(),
    )


@pytest.fixture
def payments(table, publisher) -> Payments:
    return build(table, publisher)


def authorize(payments: Payments, order_id: str = "o-1", token: str = "tok_visa", amount: int = 1000):
    """The step order of the saga and the workflow: tax first, then authorize amount + tax."""
    tax = payments.calculate_tax(order_id, amount).tax_cents
    return payments.authorize(order_id, amount, tax, token, "corr-1", "orchestrated")


def charge(payments: Payments, order_id: str = "o-1", amount: int = 1000):
    authorize(payments, order_id, amount=amount)
    return payments.capture(order_id, "corr-1", "orchestrated")


def test_authorize_then_replay_returns_the_same_authorization_without_a_second_hold(payments, repository, items):
    first = authorize(payments)
    second = authorize(payments)

    assert first.result() == second.result()
    assert first.result()["status"] == "AUTHORIZED"
    assert (first.replayed, second.replayed) == (False, True)
    assert repository.get("o-1").state is PaymentState.AUTHORIZED
    assert len(items("SIM#AUTH#")) == 1


def test_decline_is_a_result_recorded_and_announced_again_on_retry(payments, repository, publisher):
    outcome = authorize(payments, token="tok_chargeDeclined")

    assert outcome.result() == {"status": "DECLINED", "reason": "PAYMENT_DECLINED"}
    stored = repository.get("o-1")
    assert stored.state is PaymentState.DECLINED and stored.decline_code == "card_declined"
    [event] = publisher.events
    assert event.detail_type == "PaymentFailed"
    assert event.data == {"order_id": "o-1", "reason": "PAYMENT_DECLINED"}

    retry = authorize(payments, token="tok_chargeDeclined")
    assert retry.result() == outcome.result() and retry.replayed
    assert [e.metadata.event_id for e in publisher.events] == [event_id_for("o-1", "PaymentFailed")] * 2
    assert publisher.events[0] == publisher.events[1], "a re-announcement is identical, time included"


def test_transient_provider_faults_raise_and_write_nothing_until_it_succeeds(payments, repository, publisher):
    for _ in range(2):
        with pytest.raises(PaymentProviderUnavailable):
            authorize(payments, token="tok_transient")
        assert repository.get("o-1") is None

    assert authorize(payments, token="tok_transient").status == "AUTHORIZED"
    assert publisher.events == []


def test_unavailable_provider_always_raises(payments, items):
    with pytest.raises(PaymentProviderUnavailable):
        authorize(payments, token="tok_unavailable")
    assert items("PAY#") == []


def test_capture_charges_amount_plus_tax_and_a_second_capture_charges_nothing(payments, repository, publisher, items):
    assert payments.calculate_tax("o-1", 1000).result() == {"tax_cents": 83}
    authorize(payments)

    first = payments.capture("o-1", "corr-1", "orchestrated")
    second = payments.capture("o-1", "corr-1", "orchestrated")

    assert first.result() == second.result()
    assert first.result() == {
        "status": "CAPTURED",
        "capture_id": first.details["capture_id"],
        "amount_cents": 1000,
        "tax_cents": 83,
        "captured_cents": 1083,
    }
    assert second.replayed
    [capture] = items("SIM#CAP#")
    assert capture["amount_cents"]["N"] == "1083", "the processor charged amount + tax, once"
    assert repository.get("o-1").state is PaymentState.CAPTURED
    completed = [e for e in publisher.events if e.detail_type == "PaymentCompleted"]
    assert len(completed) == 2 and completed[0] == completed[1]
    assert completed[0].data == {
        "order_id": "o-1",
        "amount_cents": 1000,
        "tax_cents": 83,
        "capture_id": first.details["capture_id"],
    }


def test_tax_is_pure_and_needs_no_payment_record(payments, items):
    assert payments.calculate_tax("o-1", 1000).result() == {"tax_cents": 83}
    assert payments.calculate_tax("o-1", 1000).result() == {"tax_cents": 83}
    assert items() == [], "nothing read into existence, nothing written"


def test_authorize_holds_amount_plus_tax_and_capture_charges_exactly_that(payments, repository, items):
    authorized = payments.authorize("o-1", 2000, 165, "tok_visa", "corr-1", "orchestrated")

    [hold] = items("SIM#AUTH#")
    assert hold["amount_cents"]["N"] == "2165", "the hold is the full amount, tax included"
    stored = repository.get("o-1")
    assert (stored.amount_cents, stored.tax_cents, stored.authorization_id) == (
        2000,
        165,
        authorized.details["authorization_id"],
    )

    captured = payments.capture("o-1", "corr-1", "orchestrated")
    assert captured.details | {"capture_id": None} == {
        "capture_id": None,
        "amount_cents": 2000,
        "tax_cents": 165,
        "captured_cents": 2165,
    }
    [capture] = items("SIM#CAP#")
    assert capture["amount_cents"]["N"] == "2165"


def test_a_replayed_authorize_keeps_the_first_tax_even_if_the_rate_changed(table, publisher):
    authorize(build(table, publisher, 825))

    retried = build(table, publisher, 1000)
    assert authorize(retried).result()["status"] == "AUTHORIZED"
    assert retried.capture("o-1", "corr-1", "orchestrated").details["captured_cents"] == 1083


def test_capture_of_an_authorization_without_its_tax_is_refused(payments, repository):
    """A record written before the hold included the tax: the processor would refuse amount + tax."""
    authorize(payments)
    stored = repository.get("o-1")
    assert repository.transition(PaymentState.AUTHORIZED, replace(stored, tax_cents=None))
    with pytest.raises(InvalidPaymentState):
        payments.capture("o-1", "corr-1", "orchestrated")


def test_capture_needs_an_authorization(payments, publisher, items):
    with pytest.raises(PaymentNotFound):
        payments.capture("o-1", "corr-1", "orchestrated")
    authorize(payments, token="tok_chargeDeclined")
    assert payments.capture("o-1", "corr-1", "orchestrated").result() == {
        "status": "DECLINED",
        "reason": "PAYMENT_DECLINED",
    }
    assert "PaymentCompleted" not in publisher.types()
    assert items("SIM#CAP#") == []


def test_refund_twice_refunds_once_and_reannounces(payments, repository, publisher, items):
    charge(payments)

    first = payments.refund("o-1", "corr-1", "orchestrated")
    second = payments.refund("o-1", "corr-1", "orchestrated")

    assert first.result() == second.result() == {"status": "REFUNDED"}
    assert second.replayed
    assert len(items("SIM#REF#")) == 1
    stored = repository.get("o-1")
    assert stored.state is PaymentState.REFUNDED and stored.refunded_cents == 1083
    refunded = [e for e in publisher.events if e.detail_type == "PaymentRefunded"]
    assert len(refunded) == 2 and refunded[0] == refunded[1]
    assert refunded[0].data["amount_cents"] == 1083


@pytest.mark.parametrize("setup", ["nothing", "authorized", "declined"])
def test_refund_with_nothing_captured_is_nothing_to_do(payments, publisher, items, setup):
    if setup == "authorized":
        authorize(payments)
    elif setup == "declined":
        authorize(payments, token="tok_chargeDeclined")
    publisher.events.clear()

    assert payments.refund("o-1", "corr-1", "orchestrated").result() == {"status": "NOTHING_TO_DO"}
    assert publisher.events == []
    assert items("SIM#REF#") == []


def test_void_releases_the_authorization_once(payments, repository, items):
    authorize(payments)

    first = payments.void("o-1", "corr-1", "orchestrated")
    second = payments.void("o-1", "corr-1", "orchestrated")

    assert first.result() == second.result() == {"status": "VOIDED"}
    assert (first.replayed, second.replayed) == (False, True)
    assert repository.get("o-1").state is PaymentState.VOIDED
    [authorization] = items("SIM#AUTH#")
    assert authorization["state"]["S"] == "VOIDED"
    assert payments.capture("o-1", "corr-1", "orchestrated").result() == {"status": "VOIDED"}


def test_void_of_a_capture_refunds_it_so_nothing_stays_charged(payments, repository, publisher):
    """A capture whose response was lost is followed by the workflow's void: it must not keep the money."""
    charge(payments)

    assert payments.void("o-1", "corr-1", "orchestrated").result() == {"status": "REFUNDED"}
    assert repository.get("o-1").state is PaymentState.REFUNDED
    assert "PaymentRefunded" in [e.detail_type for e in publisher.events]


def test_void_with_nothing_authorized_is_nothing_to_do(payments):
    assert payments.void("o-1", "corr-1", "orchestrated").result() == {"status": "NOTHING_TO_DO"}


def test_fail_before_any_authorization_records_failed_and_refuses_a_late_authorize(payments, publisher, items):
    outcome = payments.fail("o-1", "PAYMENT_UNAVAILABLE", "corr-1", "choreographed")

    assert outcome.result() == {"status": "FAILED"}
    assert publisher.events[0].data == {"order_id": "o-1", "reason": "PAYMENT_UNAVAILABLE"}
    assert publisher.events[0].metadata.flow == "choreographed"
    late = authorize(payments)
    assert late.result() == {"status": "FAILED", "reason": "PAYMENT_UNAVAILABLE"}
    assert items("SIM#AUTH#") == [], "the provider was never asked"
    first, again = publisher.events
    assert (again.detail_type, again.metadata.event_id, again.data) == (
        first.detail_type,
        first.metadata.event_id,
        first.data,
    ), "the same PaymentFailed again, nothing new"


def test_fail_after_authorize_voids_the_hold(payments, repository, items):
    authorize(payments)

    assert payments.fail("o-1", "PAYMENT_UNAVAILABLE", "corr-1", "choreographed").status == "FAILED"

    assert repository.get("o-1").state is PaymentState.VOIDED
    assert items("SIM#AUTH#")[0]["state"]["S"] == "VOIDED"


def test_workflow_compensation_void_then_fail_announces_one_identical_failure(payments, repository, publisher):
    """The payment workflow's Catch path: void, then fail (and a retried fail)."""
    authorize(payments)
    assert payments.void("o-1", "corr-1", "choreographed").status == "VOIDED"

    first = payments.fail("o-1", "PAYMENT_UNAVAILABLE", "corr-1", "choreographed")
    second = payments.fail("o-1", "PAYMENT_UNAVAILABLE", "corr-1", "choreographed")

    assert (first.status, first.replayed, second.status, second.replayed) == ("FAILED", False, "FAILED", True)
    stored = repository.get("o-1")
    assert stored.state is PaymentState.VOIDED, "the record keeps the money state; the failure is noted on it"
    assert stored.reason == "PAYMENT_UNAVAILABLE" and stored.failed_at is not None
    assert publisher.types() == ["PaymentFailed", "PaymentFailed"]
    assert publisher.events[0] == publisher.events[1]


def test_fail_after_capture_refunds(payments, repository, publisher):
    charge(payments)

    payments.fail("o-1", "PAYMENT_UNAVAILABLE", "corr-1", "choreographed")

    assert repository.get("o-1").state is PaymentState.REFUNDED
    assert [e.detail_type for e in publisher.events][-2:] == ["PaymentRefunded", "PaymentFailed"]


def test_fail_after_a_decline_keeps_the_declined_reason(payments, publisher):
    authorize(payments, token="tok_chargeDeclined")
    publisher.events.clear()

    payments.fail("o-1", "PAYMENT_UNAVAILABLE", "corr-1", "choreographed")

    assert publisher.events[0].data["reason"] == "PAYMENT_DECLINED"


def test_kms_unavailable_is_retried_like_the_provider(table, publisher, items):
    from shared.payment_ref import PaymentRefUnavailable

    class Throttled:
        def open(self, order_id: str, ref: str) -> str:
            raise PaymentRefUnavailable("KMS Decrypt unavailable: ThrottlingException")

    payments = Payments(
        DynamoPaymentRepository(table),
        SimulatedCardProcessor(DynamoSimulatorLedger(table)),
        publisher,
        825,
        payment_refs=Throttled(),
    )

    with pytest.raises(PaymentProviderUnavailable):
        payments.authorize("o-1", 1000, 83, "kms1:c2VhbGVk", "corr-1", "orchestrated")
    assert items() == [] and publisher.events == []
