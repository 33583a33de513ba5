"""shared.faults.inject, driven by an SSM parameter (moto)."""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest

from shared import faults

PARAMETER = "/orderflow/faults"


@pytest.fixture
def configure(aws, monkeypatch):
    monkeypatch.setenv("ORDERFLOW_FAULTS_PARAMETER", PARAMETER)
    ssm = boto3.client("ssm")

    def put(document: dict) -> None:
        ssm.put_parameter(Name=PARAMETER, Value=json.dumps(document), Type="String", Overwrite=True)
        faults.reset_cache()

    return put


def test_failure_rate_one_always_fails(configure):
    configure({"payments.authorize": {"failure_rate": 1.0}})

    for _ in range(5):
        with pytest.raises(faults.InjectedFault, match=r"injected failure: payments\.authorize"):
            faults.inject("payments", "authorize")
    faults.inject("payments", "capture")  # other operations are untouched


def test_failure_rate_zero_never_fails(configure):
    configure({"payments.authorize": {"failure_rate": 0}})

    for _ in range(20):
        faults.inject("payments", "authorize")


def test_an_outage_covers_every_operation_of_the_service(configure):
    configure({"shipping.*": {"outage": True}})

    with pytest.raises(faults.ServiceOutage, match=r"shipping\.schedule"):
        faults.inject("shipping", "schedule")
    with pytest.raises(faults.ServiceOutage):
        faults.inject("shipping", "anything")
    # An outage is a transient fault too: retry policies that catch InjectedFault catch it.
    assert issubclass(faults.ServiceOutage, faults.InjectedFault)
    faults.inject("notifications", "notify")


def test_an_operation_entry_wins_over_the_service_wildcard(configure):
    configure({"inventory.reserve": {"latency_ms": 1}, "inventory.*": {"outage": True}})

    faults.inject("inventory", "reserve")
    with pytest.raises(faults.ServiceOutage):
        faults.inject("inventory", "release")


def test_latency_delays_the_operation(configure):
    configure({"inventory.reserve": {"latency_ms": 60}})

    started = time.monotonic()
    faults.inject("inventory", "reserve")
    delayed = time.monotonic() - started

    started = time.monotonic()
    faults.inject("inventory", "release")
    undelayed = time.monotonic() - started

    assert delayed >= 0.06
    assert undelayed < 0.05


def test_no_parameter_means_no_fault(aws, monkeypatch):
    monkeypatch.setenv("ORDERFLOW_FAULTS_PARAMETER", "/orderflow/does-not-exist")

    faults.inject("shipping", "schedule")


def test_an_unreadable_document_means_no_fault(aws, monkeypatch):
    monkeypatch.setenv("ORDERFLOW_FAULTS_PARAMETER", PARAMETER)
    boto3.client("ssm").put_parameter(Name=PARAMETER, Value="{not json", Type="String")

    faults.inject("shipping", "schedule")


def test_without_the_variable_nothing_is_read(monkeypatch):
    monkeypatch.delenv("ORDERFLOW_FAULTS_PARAMETER", raising=False)
    faults.reset_cache()

    def no_aws(*args, **kwargs):
        raise AssertionError("no AWS call expected")

    monkeypatch.setattr(boto3, "client", no_aws)
    faults.inject("shipping", "schedule")


def test_the_document_is_cached_briefly_then_reread(configure, monkeypatch):
    configure({"shipping.*": {"outage": True}})
    with pytest.raises(faults.ServiceOutage):
        faults.inject("shipping", "schedule")

    # Switched off in SSM: still cached for a moment, then the change applies without a redeploy.
    boto3.client("ssm").put_parameter(Name=PARAMETER, Value="{}", Type="String", Overwrite=True)
    with pytest.raises(faults.ServiceOutage):
        faults.inject("shipping", "schedule")
    clock = time.monotonic() + 60
    monkeypatch.setattr(faults.time, "monotonic", lambda: clock)
    faults.inject("shipping", "schedule")


# --- the failure classes: after commit, lost response, duplicate -----------------------------


class Counter:
    """An operation with a visible side effect: each run commits one write."""

    def __init__(self) -> None:
        self.writes = 0
        self.lock = threading.Lock()
        self.concurrent = 0
        self.peak = 0

    @faults.injectable("inventory", "reserve")
    def reserve(self, amount: int) -> int:
        with self.lock:
            self.concurrent += 1
            self.peak = max(self.peak, self.concurrent)
        time.sleep(0.02)  # long enough for a twin started at the same barrier to overlap
        with self.lock:
            self.writes += amount
            self.concurrent -= 1
        return self.writes


def test_after_commit_the_write_lands_then_the_call_raises(configure):
    configure({"inventory.reserve": {"phase": "after"}})
    counter = Counter()

    with pytest.raises(faults.InjectedFault, match="after commit"):
        counter.reserve(1)

    assert counter.writes == 1


def test_after_commit_with_latency_answers_late(configure):
    configure({"inventory.reserve": {"phase": "after", "latency_ms": 80}})
    counter = Counter()

    started = time.monotonic()
    assert counter.reserve(1) == 1
    assert time.monotonic() - started >= 0.08


def test_a_lost_response_commits_and_raises_lost_response(configure):
    configure({"inventory.reserve": {"phase": "lost_response"}})
    counter = Counter()

    with pytest.raises(faults.LostResponse):
        counter.reserve(1)

    assert counter.writes == 1
    assert issubclass(faults.LostResponse, faults.InjectedFault)


def test_duplicate_runs_the_operation_twice_at_once(configure):
    configure({"inventory.reserve": {"phase": "duplicate"}})
    counter = Counter()

    counter.reserve(1)

    assert counter.writes == 2
    assert counter.peak == 2  # both runs were in flight together


def test_a_list_of_faults_applies_one_post_commit_class_per_call(configure):
    configure(
        {
            "inventory.reserve": [
                {"phase": "lost_response", "failure_rate": 0},
                {"phase": "duplicate", "failure_rate": 1},
            ]
        }
    )
    counter = Counter()

    counter.reserve(1)

    assert counter.writes == 2


def test_injected_faults_are_logged_with_their_class(configure, caplog):
    configure({"inventory.reserve": {"phase": "lost_response"}})

    with caplog.at_level("WARNING", logger="orderflow.faults"), pytest.raises(faults.LostResponse):
        Counter().reserve(1)

    assert [getattr(r, "fault_class", None) for r in caplog.records] == ["lost-response"]


def test_an_unknown_phase_is_ignored(configure):
    configure({"inventory.reserve": {"phase": "sometimes"}})

    assert Counter().reserve(1) == 1
