"""An archive replay sends only the events of its time window, as AWS does (moto sends them all)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
from moto import mock_aws

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


def test_a_replay_redelivers_only_the_events_of_its_window(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    events_replay.install()
    with mock_aws():
        events, sqs = boto3.client("events"), boto3.client("sqs")
        bus_arn = events.create_event_bus(Name="bus")["EventBusArn"]
        archive_arn = events.create_archive(ArchiveName="all", EventSourceArn=bus_arn)["ArchiveArn"]
        queue = sqs.create_queue(QueueName="target")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="orders", EventBusName="bus", EventPattern=json.dumps({"source": ["test"]}))
        events.put_targets(Rule="orders", EventBusName="bus", Targets=[{"Id": "q", "Arn": queue_arn}])
        for minute in (0, 10, 20):
            entry = {"EventBusName": "bus", "Source": "test", "DetailType": f"at-{minute}", "Detail": "{}"}
            events.put_events(Entries=[{**entry, "Time": T0 + timedelta(minutes=minute)}])
        sqs.purge_queue(QueueUrl=queue)

        events.start_replay(
            ReplayName="middle",
            EventSourceArn=archive_arn,
            EventStartTime=T0 + timedelta(minutes=5),
            EventEndTime=T0 + timedelta(minutes=15),
            Destination={"Arn": bus_arn},
        )

        bodies = [
            json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        ]
        assert [body["detail-type"] for body in bodies] == ["at-10"]
        assert all(body["replay-name"] == "middle" for body in bodies)
