"""Final states are final, lost answers are found, duplicate runs charge once (moto).

VOIDED, REFUNDED, DECLINED and FAILED never move back to AUTHORIZED or CAPTURED, whoever
replays a step; a capture or an authorization whose answer was lost is found at the provider
by its idempotency key and given back; two runs of the same step at once charge once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto.dynamodb.responses import DynamoHandler

from payments.data.dynamodb import DynamoPaymentRepository, DynamoSimulatorLedger
from payments.data.provider import PaymentProviderRejected
from payments.data.simulated_provider import SimulatedCardProcessor
from payments.domain.models import PaymentState
from payments.logic import Payments
from shared import faults
from tests.unit.payments.conftest import TokensAsRefs

ORDER = "o-1"
AMOUNT, TAX = 1000, 83


class LambdaDied(Exception):
    """The invocation ended between the provider's answer and the PAY# write."""


class DiesAfterProvider(SimulatedCardProcessor):
    """The processor does the work, then the Lambda dies before it hears the answer."""

    def __init__(self, table: str, dies_in: str) -> None:
        super().__init__(DynamoSimulatorLedger(table))
        self._dies_in = dies_in

    def authorize(self, idempotency_key: str, token: str, amount_cents: int) -> str:
        answer = super().authorize(idempotency_key, token, amount_cents)
        if self._dies_in == "authorize":
            raise LambdaDied
        return answer

    def capture(self, authorization_id: str, amount_cents: int, *, idempotency_key: str) -> str:
        answer = super().capture(authorization_id, amount_cents, idempotency_key=idempotency_key)
        if self._dies_in == "capture":
            raise LambdaDied
        return answer


@pytest.fixture(autouse=True)
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB applies each request (a conditional write, a transaction) atomically; moto checks
    the condition and then writes without a lock, which threads could interleave. One lock
    around each moto request gives the tests DynamoDB's semantics."""
    lock = threading.Lock()
    call_action = DynamoHandler.call_action

    def atomic(self: DynamoHandler) -> Any:
        with lock:
            return call_action(self)

    monkeypatch.setattr(DynamoHandler, "call_action", atomic)


def build(table: str, publisher: Any, provider: SimulatedCardProcessor | None = None) -> Payments:
    return Payments(
        DynamoPaymentRepository(table),
        provider or SimulatedCardProcessor(DynamoSimulatorLedger(table)),
        publisher,
        825,
        payment_refs=TokensAsRefs(),
    )


@pytest.fixture
def payments(table: str, publisher: Any) -> Payments:
    return build(table, publisher)


@pytest.fixture
def repository(table: str) -> DynamoPaymentRepository:
    return DynamoPaymentRepository(table)


def authorize(payments: Payments, token: str = "tok_visa") -> dict[str, Any]:
    return payments.authorize(ORDER, AMOUNT, TAX, token, "corr-1", "orchestrated").result()


def capture(payments: Payments) -> dict[str, Any]:
    return payments.capture(ORDER, "corr-1", "orchestrated").result()


class Ledger:
    """The simulated processor's side of the money, read from its SIM# items."""

    def __init__(self, items: Callable[[str], list[dict[str, Any]]]) -> None:
        self._items = items

    def holds(self) -> list[str]:
        return [item["state"]["S"] for item in self._items("SIM#AUTH#")]

    def captured(self) -> int:
        return sum(int(item["amount_cents"]["N"]) for item in self._items("SIM#CAP#"))

    def refunded(self) -> int:
        return sum(int(item.get("refunded_cents", {"N": "0"})["N"]) for item in self._items("SIM#CAP#"))

    def net_charge(self) -> int:
        return self.captured() - self.refunded()

    def snapshot(self) -> list[tuple[str, str]]:
        return sorted((item["pk"]["S"], json.dumps(item, sort_keys=True)) for item in self._items("SIM#"))


@pytest.fixture
def ledger(items: Callable[[str], list[dict[str, Any]]]) -> Ledger:
    return Ledger(items)


# --- final states are final -------------------------------------------------------------


def to_voided(payments: Payments) -> None:
    authorize(payments)
    payments.void(ORDER, "corr-1", "orchestrated")


def to_refunded(payments: Payments) -> None:
    authorize(payments)
    capture(payments)
    payments.refund(ORDER, "corr-1", "orchestrated")


def to_declined(payments: Payments) -> None:
    authorize(payments, token="tok_chargeDeclined")


def to_failed(payments: Payments) -> None:
    payments.fail(ORDER, "PAYMENT_UNAVAILABLE", "corr-1", "orchestrated")


def to_tombstone(payments: Payments) -> None:
    payments.void(ORDER, "corr-1", "orchestrated")  # compensation overtook a timed-out authorize


def to_failed_after_authorize(payments: Payments) -> None:
    authorize(payments)
    payments.fail(ORDER, "PAYMENT_UNAVAILABLE", "corr-1", "orchestrated")


FINAL = {
    "voided": (to_voided, PaymentState.VOIDED, {"status": "VOIDED"}),
    "refunded": (to_refunded, PaymentState.REFUNDED, {"status": "REFUNDED"}),
    "declined": (to_declined, PaymentState.DECLINED, {"status": "DECLINED", "reason": "PAYMENT_DECLINED"}),
    "failed": (to_failed, PaymentState.FAILED, {"status": "FAILED", "reason": "PAYMENT_UNAVAILABLE"}),
    "tombstone": (to_tombstone, PaymentState.VOIDED, {"status": "VOIDED"}),
    "failed-after-authorize": (to_failed_after_authorize, PaymentState.VOIDED, {"status": "VOIDED"}),
}


@pytest.mark.parametrize("final", FINAL)
def test_replaying_authorize_and_capture_never_moves_a_final_payment_back(
    payments, repository, publisher, ledger, final
):
    setup, state, answer = FINAL[final]
    setup(payments)
    before = repository.get(ORDER)
    money = ledger.snapshot()
    completed_before = publisher.types().count("PaymentCompleted")
    publisher.events.clear()

    for _ in range(2):
        assert authorize(payments) == answer, "authorize on a final payment never answers AUTHORIZED"
        assert capture(payments) == answer, "capture on a final payment answers its final status"

    assert repository.get(ORDER) == before, "the record did not move"
    assert repository.get(ORDER).state is state
    assert ledger.snapshot() == money, "no new hold, capture or refund at the processor"
    assert "AUTHORIZED" not in ledger.holds()
    assert "PaymentCompleted" not in publisher.types()
    assert set(publisher.types()) <= {"PaymentFailed"}, "at most the same PaymentFailed again"
    assert len({event.metadata.event_id for event in publisher.events}) <= 1
    assert completed_before <= 1


@pytest.mark.parametrize("final", FINAL)
def test_a_redriven_workflow_after_the_payment_is_final_never_completes(table, publisher, ledger, final):
    """tax -> authorize -> capture again, as a redriven payment workflow runs it, from fresh instances."""
    setup, state, answer = FINAL[final]
    setup(build(table, publisher))
    publisher.events.clear()
    money = ledger.snapshot()

    redriven = build(table, publisher)
    tax = redriven.calculate_tax(ORDER, AMOUNT).tax_cents
    authorized = redriven.authorize(ORDER, AMOUNT, tax, "tok_visa", "corr-1", "choreographed").result()
    captured = redriven.capture(ORDER, "corr-1", "choreographed").result()

    assert authorized == answer and captured == answer
    assert authorized["status"] != "AUTHORIZED" and captured["status"] != "CAPTURED"
    assert "PaymentCompleted" not in publisher.types()
    assert ledger.snapshot() == money
    assert DynamoPaymentRepository(table).get(ORDER).state is state


def test_a_redriven_workflow_after_a_refund_keeps_the_money_refunded(payments, publisher, ledger):
    to_refunded(payments)
    assert ledger.net_charge() == 0
    publisher.events.clear()

    assert authorize(payments) == {"status": "REFUNDED"}
    assert capture(payments) == {"status": "REFUNDED"}
    # the workflow's Choice sends anything but CAPTURED to void -> fail
    assert payments.void(ORDER, "corr-1", "choreographed").status == "REFUNDED"
    assert payments.fail(ORDER, "PAYMENT_UNAVAILABLE", "corr-1", "choreographed").status == "FAILED"

    assert ledger.captured() == AMOUNT + TAX and ledger.net_charge() == 0
    assert "PaymentCompleted" not in publisher.types()


def test_a_captured_payment_replays_captured(payments, publisher, ledger):
    first = (authorize(payments), capture(payments))
    again = (authorize(payments), capture(payments))

    assert again == first
    assert first[0]["status"] == "AUTHORIZED" and first[1]["status"] == "CAPTURED"
    assert ledger.captured() == AMOUNT + TAX
    completed = [event for event in publisher.events if event.detail_type == "PaymentCompleted"]
    assert len(completed) == 2 and completed[0] == completed[1], "the same PaymentCompleted, re-announced"


# --- a capture whose answer was lost -----------------------------------------------------


@pytest.fixture
def lost_capture(table, publisher, repository, ledger) -> None:
    """The processor captured amount + tax; the Lambda died before the PAY# record moved."""
    authorize(build(table, publisher))
    with pytest.raises(LambdaDied):
        build(table, publisher, DiesAfterProvider(table, "capture")).capture(ORDER, "corr-1", "orchestrated")
    assert repository.get(ORDER).state is PaymentState.AUTHORIZED
    assert ledger.captured() == AMOUNT + TAX
    publisher.events.clear()


@pytest.mark.parametrize("step", ["refund", "void", "fail"])
def test_a_lost_capture_is_found_and_refunded_by_compensation(
    lost_capture, payments, repository, publisher, ledger, step
):
    if step == "fail":
        outcome = payments.fail(ORDER, "PAYMENT_UNAVAILABLE", "corr-1", "orchestrated")
        assert outcome.status == "FAILED"
    else:
        assert getattr(payments, step)(ORDER, "corr-1", "orchestrated").result() == {"status": "REFUNDED"}

    assert ledger.net_charge() == 0, "what the processor captured was given back"
    assert ledger.refunded() == AMOUNT + TAX
    stored = repository.get(ORDER)
    assert stored.state is PaymentState.REFUNDED
    assert (stored.captured_cents, stored.refunded_cents) == (AMOUNT + TAX, AMOUNT + TAX)
    assert "PaymentRefunded" in publisher.types() and "PaymentCompleted" not in publisher.types()

    # the saga's compensation runs refund then void; a retried capture comes late: all final
    assert payments.refund(ORDER, "corr-1", "orchestrated").result() == {"status": "REFUNDED"}
    assert payments.void(ORDER, "corr-1", "orchestrated").result() == {"status": "REFUNDED"}
    assert capture(payments) == {"status": "REFUNDED"}
    assert authorize(payments) == {"status": "REFUNDED"}
    assert ledger.net_charge() == 0 and len(ledger._items("SIM#REF#")) == 1
    assert "PaymentCompleted" not in publisher.types()


def test_a_capture_retried_after_its_answer_was_lost_completes_once(lost_capture, payments, publisher, ledger):
    """Forward recovery is fine too: the retried capture finds the processor's capture by its key."""
    result = capture(payments)

    assert result["status"] == "CAPTURED" and result["captured_cents"] == AMOUNT + TAX
    assert ledger.captured() == AMOUNT + TAX and len(ledger._items("SIM#CAP#")) == 1
    assert publisher.types() == ["PaymentCompleted"]


# --- an authorization whose answer was lost -----------------------------------------------


@pytest.fixture
def lost_authorize(table, publisher, repository, ledger) -> None:
    """The processor holds amount + tax; the Lambda died before the PAY# record was created."""
    with pytest.raises(LambdaDied):
        authorize(build(table, publisher, DiesAfterProvider(table, "authorize")))
    assert repository.get(ORDER) is None
    assert ledger.holds() == ["AUTHORIZED"]


@pytest.mark.parametrize("step", ["void", "void-without-tombstone", "fail"])
def test_a_lost_authorization_is_found_and_voided(lost_authorize, payments, repository, publisher, ledger, step):
    if step == "fail":
        assert payments.fail(ORDER, "PAYMENT_UNAVAILABLE", "corr-1", "orchestrated").status == "FAILED"
    else:
        tombstone = step == "void"
        assert payments.void(ORDER, "corr-1", "choreographed", tombstone=tombstone).status == "VOIDED"

    assert ledger.holds() == ["VOIDED"], "no hold left at the processor"
    assert ledger.captured() == 0
    stored = repository.get(ORDER)
    assert stored.state in (PaymentState.VOIDED, PaymentState.FAILED)
    assert stored.authorization_id is not None, "the record names the hold it released"
    # the saga's retried authorize (or a redrive) comes late: it answers the final state
    assert authorize(payments)["status"] == stored.state.value
    assert capture(payments)["status"] == stored.state.value
    assert ledger.holds() == ["VOIDED"] and ledger.captured() == 0
    assert "PaymentCompleted" not in publisher.types()


def test_an_authorize_that_overtook_the_tombstone_leaves_no_hold(table, payments, repository, ledger):
    """Compensation writes the tombstone; the timed-out authorize attempt, which had read no record,
    then reaches the processor and dies before it can notice the tombstone."""
    assert payments.void(ORDER, "corr-1", "orchestrated").status == "NOTHING_TO_DO"
    SimulatedCardProcessor(DynamoSimulatorLedger(table)).authorize(f"authorize:{ORDER}", "tok_visa", AMOUNT + TAX)
    assert ledger.holds() == ["AUTHORIZED"]

    assert payments.void(ORDER, "corr-1", "orchestrated").result() == {"status": "VOIDED"}
    assert ledger.holds() == ["VOIDED"]
    assert repository.get(ORDER).state is PaymentState.VOIDED


def test_a_late_authorize_after_the_tombstone_releases_its_own_hold(table, publisher, payments, ledger):
    """The in-flight attempt read no record, then compensation wrote the tombstone: its create loses."""
    payments.void(ORDER, "corr-1", "orchestrated")
    late = build(table, publisher)
    late.repository = _NoRecordYet(late.repository)  # it read before the tombstone was written

    assert authorize(late) == {"status": "VOIDED"}
    assert ledger.holds() == ["VOIDED"]


class _NoRecordYet:
    """A repository whose first read comes from before the tombstone."""

    def __init__(self, inner: DynamoPaymentRepository) -> None:
        self._inner = inner
        self._reads = 0

    def get(self, order_id: str) -> Any:
        self._reads += 1
        return None if self._reads == 1 else self._inner.get(order_id)

    def create(self, payment: Any) -> bool:
        return self._inner.create(payment)

    def transition(self, expected: PaymentState, payment: Any) -> bool:
        return self._inner.transition(expected, payment)


# --- duplicate concurrent runs charge once ------------------------------------------------


def twice_at_once(step: Callable[[], Any]) -> list[Any]:
    """Run a step in two threads released together (two Lambdas, a retry overlapping its attempt)."""
    start = threading.Barrier(2, timeout=60)  # a stuck thread fails the test instead of hanging the suite
    results: list[Any] = [None, None]

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = step()
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_authorizes_at_once_hold_once(table, publisher, repository, ledger):
    results = twice_at_once(lambda: authorize(build(table, publisher)))

    assert results[0] == results[1] and results[0]["status"] == "AUTHORIZED"
    assert ledger.holds() == ["AUTHORIZED"]
    assert repository.get(ORDER).authorization_id == results[0]["authorization_id"]


def test_two_captures_at_once_charge_once(table, publisher, ledger):
    authorize(build(table, publisher))

    results = twice_at_once(lambda: capture(build(table, publisher)))

    assert results[0] == results[1] and results[0]["status"] == "CAPTURED"
    assert ledger.captured() == AMOUNT + TAX and len(ledger._items("SIM#CAP#")) == 1
    assert {event.metadata.event_id for event in publisher.events} == {
        event.metadata.event_id for event in publisher.events if event.detail_type == "PaymentCompleted"
    }
    assert len({event.metadata.event_id for event in publisher.events}) == 1


@pytest.mark.parametrize("step", ["refund", "void", "fail"])
def test_two_compensations_at_once_refund_once(table, publisher, repository, ledger, step):
    payments = build(table, publisher)
    authorize(payments)
    capture(payments)

    def compensate() -> Any:
        runner = build(table, publisher)
        if step == "fail":
            return runner.fail(ORDER, "PAYMENT_UNAVAILABLE", "corr-1", "orchestrated").status
        return getattr(runner, step)(ORDER, "corr-1", "orchestrated").status

    results = twice_at_once(compensate)

    expected = "FAILED" if step == "fail" else "REFUNDED"
    assert results == [expected, expected]
    assert ledger.net_charge() == 0 and len(ledger._items("SIM#REF#")) == 1
    assert repository.get(ORDER).state is PaymentState.REFUNDED


def test_two_voids_of_a_hold_at_once_void_once(table, publisher, repository, ledger):
    authorize(build(table, publisher))

    results = twice_at_once(lambda: build(table, publisher).void(ORDER, "corr-1", "orchestrated").status)

    assert results == ["VOIDED", "VOIDED"]
    assert ledger.holds() == ["VOIDED"]
    assert repository.get(ORDER).state is PaymentState.VOIDED


@pytest.mark.parametrize("attempt", range(4))
def test_a_capture_racing_a_void_leaves_no_money_either_way(table, publisher, repository, ledger, attempt):
    """A timed-out capture still running while compensation voids: whichever wins, nothing stays charged."""
    authorize(build(table, publisher))
    start = threading.Barrier(2, timeout=60)  # a stuck thread fails the test instead of hanging the suite
    outcomes: dict[str, Any] = {}

    def run(name: str, step: Callable[[], Any]) -> None:
        start.wait()
        try:
            outcomes[name] = step()
        except Exception as error:
            outcomes[name] = error

    threads = [
        threading.Thread(target=run, args=("capture", lambda: capture(build(table, publisher)))),
        threading.Thread(
            target=run, args=("void", lambda: build(table, publisher).void(ORDER, "corr-1", "orchestrated").status)
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes["void"] in ("VOIDED", "REFUNDED")
    captured = outcomes["capture"]
    assert isinstance(captured, PaymentProviderRejected) or captured["status"] in ("CAPTURED", "VOIDED", "REFUNDED")
    # the workflow / saga goes on with compensation after the capture's answer: settle what remains
    build(table, publisher).void(ORDER, "corr-1", "orchestrated")
    assert ledger.net_charge() == 0
    assert "AUTHORIZED" not in ledger.holds()
    assert repository.get(ORDER).state in (PaymentState.VOIDED, PaymentState.REFUNDED)


# --- the fault injection's own failure classes ---------------------------------------------


@pytest.fixture
def inject(aws, monkeypatch) -> Callable[[dict[str, Any]], None]:
    """Configure shared.faults through its SSM document, as a chaos run does."""

    def configure(document: dict[str, Any]) -> None:
        boto3.client("ssm").put_parameter(
            Name="/orderflow/faults", Value=json.dumps(document), Type="String", Overwrite=True
        )
        monkeypatch.setenv("ORDERFLOW_FAULTS_PARAMETER", "/orderflow/faults")
        faults.reset_cache()

    yield configure
    faults.reset_cache()


@pytest.mark.parametrize("operation", ["authorize", "capture", "refund", "void"])
def test_injected_duplicate_runs_charge_once(table, publisher, repository, ledger, inject, operation):
    payments = build(table, publisher)
    if operation in ("capture", "refund"):
        authorize(payments)
    if operation == "refund":
        capture(payments)
    if operation == "void":
        authorize(payments)
    inject({f"payments.{operation}": {"phase": "duplicate"}})

    if operation == "authorize":
        assert authorize(payments)["status"] == "AUTHORIZED"
    elif operation == "capture":
        assert capture(payments)["status"] == "CAPTURED"
    else:
        getattr(payments, operation)(ORDER, "corr-1", "orchestrated")

    inject({})
    assert len(ledger.holds()) == 1
    assert ledger.captured() in (0, AMOUNT + TAX)
    assert len(ledger._items("SIM#CAP#")) <= 1 and len(ledger._items("SIM#REF#")) <= 1
    expected = {
        "authorize": PaymentState.AUTHORIZED,
        "capture": PaymentState.CAPTURED,
        "refund": PaymentState.REFUNDED,
        "void": PaymentState.VOIDED,
    }[operation]
    assert repository.get(ORDER).state is expected


@pytest.mark.parametrize("phase", ["after", "lost_response"])
def test_a_committed_capture_whose_answer_was_lost_is_refunded_by_the_compensation(
    table, publisher, repository, ledger, inject, phase
):
    payments = build(table, publisher)
    authorize(payments)
    inject({"payments.capture": {"phase": phase}})
    with pytest.raises(faults.InjectedFault):
        capture(payments)
    inject({})

    # the saga's Catch: refund, then void
    assert payments.refund(ORDER, "corr-1", "orchestrated").status == "REFUNDED"
    assert payments.void(ORDER, "corr-1", "orchestrated").status == "REFUNDED"
    assert ledger.net_charge() == 0
    assert capture(payments) == {"status": "REFUNDED"}
