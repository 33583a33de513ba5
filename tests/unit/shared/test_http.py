"""The APIs' JSON-only rule, applied before routing."""

from __future__ import annotations

import json

import pytest

from shared.http import unsupported_media_type


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"]
)
def test_a_body_that_is_not_json_is_refused_with_415_naming_the_header(content_type):
    event = {
        "headers": {"content-type": content_type},
        "body": '{"customer_id": "c", "payment": {"token": "tok_visa"}}',
    }

    response = unsupported_media_type(event)

    assert response is not None and response["statusCode"] == 415
    body = json.loads(response["body"])
    assert body["details"][0]["field"] == "Content-Type"
    assert "tok_visa" not in response["body"], "the refused body is never quoted back"


@pytest.mark.parametrize(
    "event",
    [
        {"headers": {"Content-Type": "application/json"}, "body": "{}"},
        {"headers": {"Content-Type": "application/json; charset=utf-8"}, "body": "{}"},
        {"headers": {"Content-Type": "application/merge-patch+json"}, "body": "{}"},
        {"headers": {}, "body": "{}"},
        {"headers": {"Content-Type": "text/plain"}, "body": None},
        {"headers": None, "body": ""},
    ],
)
def test_json_bodies_and_bodiless_requests_pass(event):
    assert unsupported_media_type(event) is None
