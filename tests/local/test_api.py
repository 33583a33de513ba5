"""The REST API: routing by the template's resource tree, the proxy event, API Gateway's answers."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import requests


def call(cloud: Any, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{cloud.api_url}{path}", timeout=30, **kwargs)


def test_path_parameter_reaches_the_function_as_a_proxy_event(cloud: Any) -> None:
    response = call(cloud, "GET", "/items/42?tag=a&tag=b&q=x%20y", headers={"X-Trace": "t1"})
    assert response.status_code == 200, response.text
    event = response.json()["event"]
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"tag": "b", "q": "x y"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "q": ["x y"]}
    assert event["headers"]["X-Trace"] == "t1"
    assert event["multiValueHeaders"]["X-Trace"] == ["t1"]
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    api = cloud.find(type="AWS::ApiGateway::RestApi")
    assert context["apiId"] == api.physical_id
    assert context["stage"] == "test"
    assert context["resourcePath"] == "/items/{id}"
    assert context["path"] == "/test/items/42"
    assert context["httpMethod"] == "GET"
    assert context["accountId"] == cloud.account_id
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"].startswith("python-requests")
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert isinstance(context["requestTimeEpoch"], int)
    assert context["resourceId"] in {
        r["id"] for r in cloud.client("apigateway").get_resources(restApiId=api.physical_id)["items"]
    }


def test_the_response_is_mapped_like_api_gateway_maps_it(cloud: Any) -> None:
    response = call(cloud, "POST", "/items", json={"name": "pen"})
    assert response.status_code == 201
    assert response.headers["X-Echo"] == "yes"
    assert response.headers["Content-Type"] == "application/json"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert json.loads(response.json()["event"]["body"]) == {"name": "pen"}


def test_the_stage_prefix_is_accepted_too(cloud: Any) -> None:
    response = call(cloud, "GET", "/test/items/7")
    assert response.status_code == 200
    assert response.json()["event"]["pathParameters"] == {"id": "7"}


def test_greedy_proxy_and_any_method(cloud: Any) -> None:
    response = call(cloud, "PUT", "/items/9/files/a/b/c.txt", data=b"content")
    assert response.status_code == 200
    event = response.json()["event"]
    assert event["resource"] == "/items/{id}/files/{proxy+}"
    assert event["pathParameters"] == {"id": "9", "proxy": "a/b/c.txt"}
    assert event["httpMethod"] == "PUT"
    assert event["body"] == "content"


def test_unknown_routes_and_methods_answer_like_api_gateway(cloud: Any) -> None:
    for method, path in [("GET", "/nothing"), ("GET", "/items/1/2"), ("PATCH", "/items"), ("POST", "/items/1")]:
        response = call(cloud, method, path)
        assert response.status_code == 403, (method, path)
        assert response.json() == {"message": "Missing Authentication Token"}


def test_function_errors_and_malformed_responses_are_502(cloud: Any) -> None:
    for mode in ("raise", "malformed"):
        response = call(cloud, "GET", f"/broken/{mode}")
        assert response.status_code == 502, mode
        assert response.json() == {"message": "Internal server error"}


def test_request_body_validation_with_the_templates_model(cloud: Any) -> None:
    assert call(cloud, "POST", "/things", json={"name": ""}).json() == {"message": "Invalid request body"}
    assert call(cloud, "POST", "/things", json={"other": 1}).status_code == 400
    assert (
        call(cloud, "POST", "/things", data="not json", headers={"Content-Type": "application/json"}).status_code == 400
    )
    assert call(cloud, "POST", "/things", json={"name": "ok"}).status_code == 201


def test_cors_preflight_is_the_mock_integration(cloud: Any) -> None:
    response = call(cloud, "OPTIONS", "/things")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "POST"


def test_iam_authorized_routes_accept_unsigned_calls_locally(cloud: Any) -> None:
    response = call(cloud, "DELETE", "/items/5")
    assert response.status_code == 200
    assert response.json()["event"]["httpMethod"] == "DELETE"


def test_payloads_over_ten_megabytes_are_rejected(cloud: Any) -> None:
    address = urlsplit(cloud.api_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    connection.putrequest("POST", "/items")
    connection.putheader("Content-Length", str(10 * 1024 * 1024 + 1))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    connection.close()


def test_keep_alive_connections_serve_many_requests(cloud: Any) -> None:
    with requests.Session() as session:
        statuses = [session.get(f"{cloud.api_url}/items/{i}", timeout=30).status_code for i in range(20)]
    assert statuses == [200] * 20
