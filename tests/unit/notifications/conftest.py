"""Notifications tests run against moto: an analytics table and a topic with an SQS subscriber to read it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

import notifications.observability  # noqa: F401 - its logger binds to the session's stdout, not one test's capture
from tests.support.consumer import Consumer, consumer_handler


@dataclass
class NotificationsStack(Consumer):
    dynamodb: Any
    sqs: Any
    table: str
    topic_arn: str
    subscriber_url: str

    def notifications(self) -> list[dict[str, Any]]:
        """What the topic's subscriber received so far: the raw text, the parsed message and its attributes."""
        received: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.subscriber_url, MaxNumberOfMessages=10)
            messages = batch.get("Messages", [])
            if not messages:
                return received
            for message in messages:
                envelope = json.loads(message["Body"])
                received.append(
                    {
                        "raw": envelope["Message"],
                        "message": json.loads(envelope["Message"]),
                        "attributes": {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()},
                    }
                )
                self.sqs.delete_message(QueueUrl=self.subscriber_url, ReceiptHandle=message["ReceiptHandle"])

    def item(self, pk: str) -> dict[str, Any] | None:
        return self.dynamodb.get_item(TableName=self.table, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


@pytest.fixture
def stack(aws: None, monkeypatch: pytest.MonkeyPatch) -> NotificationsStack:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="analytics",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "day", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByDay",
                "KeySchema": [{"AttributeName": "day", "KeyType": "HASH"}, {"AttributeName": "pk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["detail_type", "confirmed_cents"]},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    topic_arn = boto3.client("sns").create_topic(Name="notifications")["TopicArn"]
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

    handler = consumer_handler(
        monkeypatch, "notifications.handlers.consumer", ANALYTICS_TABLE="analytics", NOTIFICATIONS_TOPIC_ARN=topic_arn
    )
    return NotificationsStack(handler, "notifications-consumer", dynamodb, sqs, "analytics", topic_arn, queue_url)
