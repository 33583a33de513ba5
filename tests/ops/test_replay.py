"""Archive replay: start + poll on moto, progress and failure handling on a scripted client."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ops.replay import ReplayError, replay
from tests.ops.world import World

SINCE = datetime(2020, 1, 1, tzinfo=UTC)
UNTIL = datetime(2040, 1, 1, tzinfo=UTC)


def publish(world: World, order_id: str, *detail_types: str) -> None:
    world.clients.events.put_events(
        Entries=[
            {
                "EventBusName": world.resources.bus_name(),
                "Source": "orderflow.orders",
                "DetailType": detail_type,
                "Detail": json.dumps(
                    {"metadata": {"order_id": order_id, "event_id": f"{order_id}:{detail_type}"}, "data": {}}
                ),
            }
            for detail_type in detail_types
        ]
    )


@pytest.fixture
def consumer(world: World) -> str:
    """A rule -> queue like every consumer's; returns the queue's prefix."""
    sqs, events = world.clients.sqs, world.clients.events
    arn = sqs.get_queue_attributes(QueueUrl=world.queue_url("ShippingEventsQueue"), AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    bus = world.resources.bus_name()
    events.put_rule(Name="Ship", EventBusName=bus, EventPattern=json.dumps({"source": ["orderflow.orders"]}))
    events.put_targets(Rule="Ship", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return "ShippingEventsQueue"


def bodies(world: World, prefix: str) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in world.messages(prefix)]


def test_replay_sends_archived_events_through_the_rules_again(world: World, consumer: str) -> None:
    publish(world, "o-1", "OrderPlaced", "OrderConfirmed")
    assert len(bodies(world, consumer)) == 2  # live delivery, consumed
    states: list[str] = []

    result = replay(world.clients, world.resources, since=SINCE, until=UNTIL, progress=lambda s, _: states.append(s))

    assert result.ok and result.state == "COMPLETED"
    assert result.name.startswith("orderflow-")
    assert states[-1] == "COMPLETED"
    replayed = bodies(world, consumer)
    assert sorted(e["detail-type"] for e in replayed) == ["OrderConfirmed", "OrderPlaced"]
    assert all(e.get("replay-name") == result.name for e in replayed)
    described = world.clients.events.describe_replay(ReplayName=result.name)
    assert described["EventSourceArn"].endswith(":archive/orderflow-archive")
    assert "FilterArns" not in described["Destination"]


def test_an_order_replay_republishes_that_orders_events_only(world: World, consumer: str) -> None:
    publish(world, "o-1", "OrderPlaced", "OrderConfirmed")
    publish(world, "o-2", "OrderPlaced")
    bodies(world, consumer)

    result = replay(world.clients, world.resources, since=SINCE, until=UNTIL, order_id="o-1", capture_wait_seconds=0)

    assert result.ok and result.order_id == "o-1"
    assert result.republished == 2
    # moto's replay ignores FilterArns and replays to every rule (AWS would not); the
    # republished events are those without a replay-name, and they are o-1's only.
    republished = [e for e in bodies(world, consumer) if "replay-name" not in e]
    assert sorted(e["detail-type"] for e in republished) == ["OrderConfirmed", "OrderPlaced"]
    assert {e["detail"]["metadata"]["order_id"] for e in republished} == {"o-1"}
    # the temporary rule and queue are gone
    rules = world.clients.events.list_rules(EventBusName=world.resources.bus_name())["Rules"]
    assert [r["Name"] for r in rules if r["Name"].startswith("orderflow-")] == []
    assert not [u for u in world.clients.sqs.list_queues().get("QueueUrls", []) if "orderflow-order-" in u]
    described = world.clients.events.describe_replay(ReplayName=result.name)
    assert described["Destination"]["FilterArns"][0].endswith(f"rule/orderflow-bus/{result.name}")


def test_an_empty_window_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="before"):
        replay(world.clients, world.resources, since=UNTIL, until=SINCE)


class ScriptedEvents:
    """describe_replay answers from a script; everything else goes to moto."""

    def __init__(self, real: Any, states: list[dict[str, Any]]) -> None:
        self.real, self.states, self.cancelled = real, states, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def describe_replay(self, **_: Any) -> dict[str, Any]:
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def cancel_replay(self, **_: Any) -> dict[str, Any]:
        self.cancelled = True
        return {}


def test_polls_until_completed_with_progress(world: World) -> None:
    events = ScriptedEvents(
        world.clients.events,
        [
            {"State": "STARTING"},
            {"State": "RUNNING", "EventLastReplayedTime": SINCE + (UNTIL - SINCE) / 4},
            {"State": "RUNNING", "EventLastReplayedTime": SINCE + (UNTIL - SINCE) / 2},
            {"State": "COMPLETED"},
        ],
    )
    seen: list[tuple[str, float | None]] = []
    sleeps: list[float] = []
    result = replay(
        dataclasses.replace(world.clients, events=events),
        world.resources,
        since=SINCE,
        until=UNTIL,
        poll_seconds=2,
        progress=lambda state, fraction: seen.append((state, fraction)),
        sleep=sleeps.append,
    )
    assert result.ok
    assert seen == [("STARTING", None), ("RUNNING", 0.25), ("RUNNING", 0.5), ("COMPLETED", 1.0)]
    assert sleeps == [2, 2, 2]


def test_a_failed_replay_is_reported(world: World) -> None:
    events = ScriptedEvents(world.clients.events, [{"State": "FAILED", "StateReason": "archive gone"}])
    result = replay(dataclasses.replace(world.clients, events=events), world.resources, since=SINCE, until=UNTIL)
    assert not result.ok
    assert (result.state, result.reason) == ("FAILED", "archive gone")


def test_a_replay_that_never_ends_is_cancelled(world: World) -> None:
    events = ScriptedEvents(world.clients.events, [{"State": "RUNNING"}])
    with pytest.raises(ReplayError, match="cancelled"):
        replay(
            dataclasses.replace(world.clients, events=events),
            world.resources,
            since=SINCE,
            until=UNTIL,
            timeout_seconds=0,
            sleep=lambda _: None,
        )
    assert events.cancelled


def test_an_order_replay_cleans_up_when_the_replay_fails(world: World) -> None:
    events = ScriptedEvents(world.clients.events, [{"State": "FAILED"}])
    result = replay(
        dataclasses.replace(world.clients, events=events),
        world.resources,
        since=SINCE,
        until=UNTIL - timedelta(days=1),
        order_id="o-1",
        capture_wait_seconds=0,
    )
    assert not result.ok and result.republished == 0
    rules = world.clients.events.list_rules(EventBusName=world.resources.bus_name())["Rules"]
    assert [r["Name"] for r in rules if r["Name"].startswith("orderflow-")] == []
