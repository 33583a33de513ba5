"""An archive replay sends only the events of its time window, as AWS does (moto sends them all)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from local import events_replay
from local.events_replay import in_window

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_window_bounds_are_inclusive_and_times_are_compared_to_the_second():
    event = {"time": "2026-12-01T12:00:00Z"}
    assert in_window(event, T0.timestamp(), (T0 + timedelta(minutes=1)).timestamp())
    assert in_window(event, T0.timestamp() + 0.4, (T0 + timedelta(minutes=1)).timestamp())
    assert not in_window(event, (T0 + timedelta(seconds=1)).timestamp(), (T0 + timedelta(minutes=1)).timestamp())
    assert not in_window(event, (T0 - timedelta(minutes=2)).timestamp(), (T0 - timedelta(minutes=1)).timestamp())
    assert in_window({}, T0.timestamp(), T0.timestamp())  # no time: nothing to judge by


def test_a_replay_redelivers_only_the_events_of_its_window():
    """On moto's backends directly, in an account of its own: no mock_aws, which would reset the
    backends of the local cloud that the other tests of this directory share."""
    from moto.events.models import events_backends
    from moto.sqs.models import sqs_backends

    events_replay.install()
    account, region = "210987654321", "us-east-1"
    events, sqs = events_backends[account][region], sqs_backends[account][region]
    queue = sqs.create_queue(f"target-{uuid.uuid4().hex[:8]}")
    bus = events.create_event_bus(f"bus-{uuid.uuid4().hex[:8]}")
    archive = events.create_archive(f"all-{uuid.uuid4().hex[:8]}", bus.arn, "", "", "0")
    events.put_rule("orders", event_bus_arn=bus.arn, event_pattern=json.dumps({"source": ["test"]}))
    events.put_targets("orders", bus.arn, [{"Id": "q", "Arn": queue.queue_arn}])
    for minute in (0, 10, 20):
        moment = (T0 + timedelta(minutes=minute)).timestamp()
        entry = {"EventBusName": bus.name, "Source": "test", "DetailType": f"at-{minute}", "Detail": "{}"}
        events.put_events([{**entry, "Time": moment}])
    assert len(archive.events) == 3
    queue._messages.clear()

    events.start_replay(
        f"middle-{uuid.uuid4().hex[:8]}",
        "",
        archive.arn,
        (T0 + timedelta(minutes=5)).timestamp(),
        (T0 + timedelta(minutes=15)).timestamp(),
        {"Arn": bus.arn},
    )

    bodies = [json.loads(message.body) for message in queue._messages]
    assert [body["detail-type"] for body in bodies] == ["at-10"]
    assert all("replay-name" in body for body in bodies)
    assert len(archive.events) == 3, "the archive keeps every event"
