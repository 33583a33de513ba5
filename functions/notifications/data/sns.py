"""The customer notifier on SNS."""

from __future__ import annotations

import json
from typing import Any

import boto3

from notifications.data.repository import Notifier
from notifications.domain.models import Notification


class SNSNotifier(Notifier):
    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        self._topic_arn = topic_arn
        self._client = client or boto3.client("sns")

    def publish(self, notification: Notification) -> str:
        response = self._client.publish(
            TopicArn=self._topic_arn,
            Message=json.dumps(notification.model_dump(mode="json"), sort_keys=True),
            # Subscribers filter on the attribute without parsing the body.
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": notification.type}},
        )
        return str(response["MessageId"])
