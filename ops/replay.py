"""Replay: send archived events of a time window through the bus's rules again.

Safe because every consumer is idempotent: event ids are deterministic (uuid5 of order and
type), every write is conditional and status only moves forward, so an event a consumer has
already applied changes nothing; one it missed is applied now.

`--order` narrows a replay to one order. EventBridge cannot filter a replay by content, only
by rule, and the consumer queues accept events from their own rules only; so the replay goes
to a temporary rule matching that order's events, whose temporary queue collects them, and
they are then published onto the bus again (same detail, same event ids), where the normal
rules deliver them. The temporary rule and queue are removed afterwards.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ops.clients import Clients
from ops.resources import Resources

TERMINAL_STATES = frozenset({"COMPLETED", "CANCELLED", "FAILED"})
PUT_EVENTS_BATCH = 10

Progress = Callable[[str, float | None], None]  # (replay state, fraction of the window replayed)


class ReplayError(RuntimeError):
    pass


@dataclass
class ReplayResult:
    name: str
    arn: str
    state: str
    reason: str | None = None
    order_id: str | None = None
    republished: int = 0  # events of the order published again (--order only)

    @property
    def ok(self) -> bool:
        return self.state == "COMPLETED"


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _replay_name(order_id: str | None) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"orderflow-{'order-' if order_id else ''}{stamp}-{uuid.uuid4().hex[:8]}"


def replay(
    clients: Clients,
    resources: Resources,
    *,
    since: datetime,
    until: datetime,
    order_id: str | None = None,
    poll_seconds: float = 5.0,
    timeout_seconds: float = 3600.0,
    capture_wait_seconds: int = 5,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ReplayResult:
    """Replay the bus archive between `since` and `until` onto the bus and wait for it to finish."""
    if since >= until:
        raise ValueError("--since must be before --until")
    events = clients.events
    bus_arn = resources.bus_arn(events)
    archive_arn = resources.archive_arn(events)
    name = _replay_name(order_id)

    def run(filter_arns: list[str] | None) -> ReplayResult:
        return _run(
            events,
            name,
            archive_arn=archive_arn,
            bus_arn=bus_arn,
            since=since,
            until=until,
            filter_arns=filter_arns,
            poll_seconds=poll_seconds,
            timeout_seconds=timeout_seconds,
            progress=progress,
            sleep=sleep,
        )

    if order_id is None:
        return run(None)
    capture = _OrderCapture(clients, resources.bus_name(), name, order_id)
    try:
        capture.create()
        result = run([capture.rule_arn])
        result.order_id = order_id
        if result.ok:
            result.republished = capture.republish(wait_seconds=capture_wait_seconds)
        return result
    finally:
        capture.delete()


def _run(
    events: Any,
    name: str,
    *,
    archive_arn: str,
    bus_arn: str,
    since: datetime,
    until: datetime,
    filter_arns: list[str] | None,
    poll_seconds: float,
    timeout_seconds: float,
    progress: Progress | None,
    sleep: Callable[[float], None],
) -> ReplayResult:
    destination: dict[str, Any] = {"Arn": bus_arn}
    if filter_arns:
        destination["FilterArns"] = filter_arns
    started = events.start_replay(
        ReplayName=name,
        Description="orderflow ops replay",
        EventSourceArn=archive_arn,
        EventStartTime=since,
        EventEndTime=until,
        Destination=destination,
    )
    arn = str(started.get("ReplayArn", ""))
    deadline = time.monotonic() + timeout_seconds
    while True:
        described = events.describe_replay(ReplayName=name)
        state = str(described.get("State", "UNKNOWN"))
        if progress:
            progress(state, _fraction(described, since, until))
        if state in TERMINAL_STATES:
            return ReplayResult(name=name, arn=arn, state=state, reason=described.get("StateReason"))
        if time.monotonic() >= deadline:
            events.cancel_replay(ReplayName=name)
            raise ReplayError(f"replay {name} still {state} after {timeout_seconds:.0f} s; cancelled")
        sleep(poll_seconds)


def _fraction(described: dict[str, Any], since: datetime, until: datetime) -> float | None:
    if described.get("State") == "COMPLETED":
        return 1.0
    last = described.get("EventLastReplayedTime")
    if not isinstance(last, datetime):
        return None
    span = (until - since).total_seconds()
    return max(0.0, min(1.0, (last - since).total_seconds() / span)) if span > 0 else None


class _OrderCapture:
    """A temporary rule + queue on the bus that collects one order's replayed events."""

    def __init__(self, clients: Clients, bus_name: str, name: str, order_id: str) -> None:
        self.clients = clients
        self.bus_name = bus_name
        self.name = name
        self.order_id = order_id
        self.rule_arn = ""
        self.queue_url = ""

    def create(self) -> None:
        sqs, events = self.clients.sqs, self.clients.events
        self.queue_url = sqs.create_queue(
            QueueName=self.name, Attributes={"MessageRetentionPeriod": "3600", "SqsManagedSseEnabled": "true"}
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        pattern = {"source": [{"prefix": "orderflow."}], "detail": {"metadata": {"order_id": [self.order_id]}}}
        self.rule_arn = events.put_rule(
            Name=self.name,
            EventBusName=self.bus_name,
            EventPattern=json.dumps(pattern),
            State="ENABLED",
            Description=f"orderflow ops: collects replayed events of order {self.order_id}",
        )["RuleArn"]
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": self.rule_arn}},
                }
            ],
        }
        sqs.set_queue_attributes(QueueUrl=self.queue_url, Attributes={"Policy": json.dumps(policy)})
        events.put_targets(Rule=self.name, EventBusName=self.bus_name, Targets=[{"Id": "capture", "Arn": queue_arn}])

    def collected(self, wait_seconds: int) -> list[dict[str, Any]]:
        """The captured events, once each (by their deterministic event id), oldest first."""
        by_id: dict[str, dict[str, Any]] = {}
        while True:
            batch = self.clients.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                event = json.loads(message["Body"])
                metadata = (event.get("detail") or {}).get("metadata") or {}
                by_id.setdefault(str(metadata.get("event_id") or event.get("id")), event)
                self.clients.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return sorted(by_id.values(), key=lambda e: str(e.get("time", "")))

    def republish(self, *, wait_seconds: int) -> int:
        entries = [
            {
                "EventBusName": self.bus_name,
                "Source": event["source"],
                "DetailType": event["detail-type"],
                "Detail": json.dumps(event["detail"]),
                **({"Time": parse_time(str(event["time"]))} if event.get("time") else {}),
            }
            for event in self.collected(wait_seconds)
        ]
        for start in range(0, len(entries), PUT_EVENTS_BATCH):
            response = self.clients.events.put_events(Entries=entries[start : start + PUT_EVENTS_BATCH])
            if response.get("FailedEntryCount"):
                failed = [e for e in response.get("Entries", []) if e.get("ErrorCode")]
                raise ReplayError(f"{len(failed)} event(s) of order {self.order_id} not republished: {failed}")
        return len(entries)

    def delete(self) -> None:
        events, sqs = self.clients.events, self.clients.sqs
        if self.rule_arn:
            events.remove_targets(Rule=self.name, EventBusName=self.bus_name, Ids=["capture"])
            events.delete_rule(Name=self.name, EventBusName=self.bus_name)
        if self.queue_url:
            sqs.delete_queue(QueueUrl=self.queue_url)
