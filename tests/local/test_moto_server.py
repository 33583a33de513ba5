"""The local cloud's moto server keeps connections alive and frames every answer by its length."""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.moto_server import MotoServer


@pytest.fixture
def server() -> Iterator[MotoServer]:
    running = MotoServer("127.0.0.1", 0)
    running.start()
    yield running
    running.stop()


def _connection(server: MotoServer) -> http.client.HTTPConnection:
    host, port = server.get_host_and_port()
    return http.client.HTTPConnection(host, port, timeout=10)


def _sqs_call(connection: http.client.HTTPConnection, action: str, body: dict[str, Any], **headers: str) -> Any:
    payload = json.dumps(body).encode()
    connection.request(
        "POST",
        "/",
        body=payload,
        headers={
            "X-Amz-Target": f"AmazonSQS.{action}",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/sqs/aws4_request, "
            "SignedHeaders=host, Signature=0",
            **headers,
        },
    )
    return connection.getresponse()


def test_one_connection_carries_many_requests(server: MotoServer) -> None:
    connection = _connection(server)
    name = f"keepalive-{uuid.uuid4().hex[:8]}"
    created = _sqs_call(connection, "CreateQueue", {"QueueName": name})
    url = json.loads(created.read())["QueueUrl"]
    first_socket = connection.sock
    for n in range(3):
        sent = _sqs_call(connection, "SendMessage", {"QueueUrl": url, "MessageBody": f"m{n}"})
        assert sent.status == 200, sent.read()
        assert sent.getheader("Connection") is None
        sent.read()
    assert connection.sock is first_socket  # never reconnected: the server kept the connection open
    listed = _sqs_call(connection, "GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})
    assert json.loads(listed.read())["Attributes"]["ApproximateNumberOfMessages"] == "3"
    assert len(server._server.connections) == 1  # type: ignore[attr-defined]


def test_chunked_request_body_is_read_to_its_end(server: MotoServer) -> None:
    connection = _connection(server)
    name = f"chunked-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"QueueName": name}).encode()
    connection.putrequest("POST", "/")
    for key, value in {
        "X-Amz-Target": "AmazonSQS.CreateQueue",
        "Content-Type": "application/x-amz-json-1.0",
        "Transfer-Encoding": "chunked",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/eu-west-1/sqs/aws4_request, "
        "SignedHeaders=host, Signature=0",
    }.items():
        connection.putheader(key, value)
    connection.endheaders()
    for piece in (body[:7], body[7:]):
        connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    connection.send(b"0\r\n\r\n")
    answer = connection.getresponse()
    assert answer.status == 200
    assert json.loads(answer.read())["QueueUrl"].endswith(name)
    # The connection is positioned at the next request.
    again = _sqs_call(connection, "GetQueueUrl", {"QueueName": name})
    assert json.loads(again.read())["QueueUrl"].endswith(name)


def test_an_unread_body_does_not_leak_into_the_next_request(server: MotoServer) -> None:
    real = server._server.app

    def refuses_unread(environ: Any, start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/refused":
            start_response("404 NOT FOUND", [("Content-Type", "text/plain")])
            return [b"no"]
        return real(environ, start_response)

    server._server.app = refuses_unread
    connection = _connection(server)
    connection.request("POST", "/refused", body=b"x" * 5000, headers={"Content-Type": "text/plain"})
    first = connection.getresponse()
    assert (first.status, first.read()) == (404, b"no")
    name = f"after-{uuid.uuid4().hex[:8]}"
    created = _sqs_call(connection, "CreateQueue", {"QueueName": name})
    assert created.status == 200
    assert json.loads(created.read())["QueueUrl"].endswith(name)


def test_a_failing_application_answers_500_and_the_connection_goes_on(server: MotoServer) -> None:
    real = server._server.app
    calls = {"n": 0}

    def failing_once(environ: Any, start_response: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return real(environ, start_response)

    server._server.app = failing_once
    connection = _connection(server)
    failed = _sqs_call(connection, "ListQueues", {})
    assert failed.status == 500
    assert failed.read() == b"Internal Server Error"
    listed = _sqs_call(connection, "ListQueues", {})
    assert listed.status == 200
    listed.read()


def test_connection_close_is_honoured(server: MotoServer) -> None:
    connection = _connection(server)
    answer = _sqs_call(connection, "ListQueues", {}, Connection="close")
    assert answer.status == 200
    assert answer.getheader("Connection") == "close"
    answer.read()
    assert answer.will_close


def test_boto3_clients_reuse_their_connections(server: MotoServer) -> None:
    host, port = server.get_host_and_port()
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://{host}:{port}",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    for _ in range(5):
        client.list_tables()
    assert len(server._server.connections) == 1  # type: ignore[attr-defined]


def test_stop_closes_idle_connections() -> None:
    running = MotoServer("127.0.0.1", 0)
    running.start()
    connection = _connection(running)
    _sqs_call(connection, "ListQueues", {}).read()
    running.stop()
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        _sqs_call(connection, "ListQueues", {}).read()
