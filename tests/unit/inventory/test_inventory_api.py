"""inventory-api through its Lambda handler, with API Gateway proxy events and a moto table."""

from __future__ import annotations

import json

import pytest

from inventory.handlers import api

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")


def call(event, context):
    response = api.lambda_handler(event, context)
    return response["statusCode"], json.loads(response["body"]), response


def test_put_sets_stock_and_price_and_get_reads_it(table, api_event, context):
    status, body, response = call(api_event("PUT", "apple-1", {"available": 7, "price_cents": 250}), context)
    assert status == 200
    assert body == {"sku": "apple-1", "available": 7, "reserved": 0, "price_cents": 250, "version": 1}
    assert response["multiValueHeaders"]["ETag"] == ['"1"']

    status, body, response = call(api_event("GET", "apple-1"), context)
    assert status == 200
    assert body == {"sku": "apple-1", "available": 7, "reserved": 0, "price_cents": 250, "version": 1}
    assert response["multiValueHeaders"]["ETag"] == ['"1"']


def test_put_keeps_reserved_units_reserved(table, api_event, context):
    from inventory.dependencies import api_inventory

    call(api_event("PUT", "pear", {"available": 5, "price_cents": 100}), context)
    # reserve 2 the way the saga would (the API function cannot publish, so bypass the logic layer)
    import boto3

    boto3.client("dynamodb").update_item(
        TableName=table,
        Key={"pk": {"S": "SKU#pear"}},
        UpdateExpression="SET available = available - :q, reserved = reserved + :q",
        ExpressionAttributeValues={":q": {"N": "2"}},
    )

    status, body, _ = call(api_event("PUT", "pear", {"available": 10, "price_cents": 120}), context)

    assert status == 200
    assert body == {"sku": "pear", "available": 10, "reserved": 2, "price_cents": 120, "version": 2}
    item = api_inventory().get_stock("pear")
    assert item.stocked == item.available + item.reserved == 12


def test_get_unknown_sku_is_404_naming_the_sku(table, api_event, context):
    status, body, _ = call(api_event("GET", "nope"), context)
    assert status == 404
    assert body == {
        "error": "sku_not_found",
        "message": "sku nope not found",
        "details": [
            {"field": "sku", "location": "path", "type": "not_found", "message": "no stock item with this sku"}
        ],
    }


def test_another_method_on_a_known_path_is_a_json_405_with_allow(table, api_event, context):
    status, body, response = call(api_event("DELETE", "apple"), context)
    assert (status, body["error"]) == (405, "method_not_allowed")
    assert response["multiValueHeaders"]["Allow"] == ["GET, PUT"]


def test_unknown_route_is_a_json_404(table, api_event, context):
    event = api_event("GET", "apple")
    event["path"] = event["resource"] = "/inventory/apple/colour"
    status, body, _ = call(event, context)
    assert status == 404
    assert body["error"] == "not_found"


def test_malformed_json_is_400_and_writes_nothing(table, api_event, context, scan_items):
    status, body, _ = call(api_event("PUT", "apple", '{"available": 5,'), context)
    assert status == 400
    assert body["error"] == "malformed_body"
    assert body["details"][0]["field"] == "body"
    assert scan_items() == []


@pytest.mark.parametrize(
    ("payload", "field", "error_type"),
    [
        ({"price_cents": 100}, "available", "missing"),
        ({"available": 5}, "price_cents", "missing"),
        ({"available": 5, "price_cents": 100, "colour": "red"}, "colour", "extra_forbidden"),
        ({"available": "5", "price_cents": 100}, "available", "int_type"),
        ({"available": True, "price_cents": 100}, "available", "int_type"),
        ({"available": 5.5, "price_cents": 100}, "available", "int_type"),
        ({"available": 5, "price_cents": 1.0}, "price_cents", "int_type"),
        ({"available": -1, "price_cents": 100}, "available", "greater_than_equal"),
        ({"available": 5, "price_cents": 0}, "price_cents", "greater_than"),
        ({"available": 5, "price_cents": -3}, "price_cents", "greater_than"),
        ({"available": 1_000_000_001, "price_cents": 100}, "available", "less_than_equal"),
        ({"available": 5, "price_cents": 100_000_001}, "price_cents", "less_than_equal"),
        ({"available": 10**30, "price_cents": 100}, "available", "less_than_equal"),
        ([{"available": 5, "price_cents": 100}], "body", "model_attributes_type"),
        (None, "body", "missing"),
    ],
)
def test_invalid_body_is_422_naming_the_field_and_writes_nothing(
    table, api_event, context, scan_items, payload, field, error_type
):
    status, body, _ = call(api_event("PUT", "apple", payload), context)

    # a body that is not a JSON object (or none) cannot be understood at all: 400, the others 422
    assert (status, body["error"]) == ((400, "malformed_body") if field == "body" else (422, "validation_error"))
    assert {"field": field, "type": error_type} in [{"field": d["field"], "type": d["type"]} for d in body["details"]]
    assert all(set(detail) == {"field", "location", "type", "message"} for detail in body["details"])
    assert scan_items() == [], "a rejected request must not write"


def test_zero_available_is_valid(table, api_event, context):
    status, body, _ = call(api_event("PUT", "apple", {"available": 0, "price_cents": 1}), context)
    assert status == 200
    assert body["available"] == 0


@pytest.mark.parametrize("sku", ["a" * 65, "bad sku", "semi;colon", "star*", "caf\u00e9"])
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_wrong_sku_format_is_422_naming_sku_and_writes_nothing(table, api_event, context, scan_items, sku, method):
    status, body, _ = call(api_event(method, sku, {"available": 1, "price_cents": 1}), context)
    assert status == 422
    assert [d["field"] for d in body["details"]] == ["sku"]
    assert body["details"][0]["location"] == "path"
    assert scan_items() == []


@pytest.mark.parametrize("sku", ["a", "A-Z_0.9", "x" * 64])
def test_sku_format_edges_are_accepted(table, api_event, context, sku):
    status, body, _ = call(api_event("PUT", sku, {"available": 1, "price_cents": 1}), context)
    assert status == 200
    assert body["sku"] == sku


def test_unsupported_content_type_is_415(table, api_event, context, scan_items):
    event = api_event("PUT", "apple", "available=5", headers={"Content-Type": "text/plain"})
    status, body, _ = call(event, context)
    assert status == 415
    assert body["error"] == "unsupported_media_type"
    assert body["details"][0]["field"] == "Content-Type"
    assert scan_items() == []


def test_correlation_id_is_taken_from_the_caller_and_echoed(table, api_event, context):
    _, _, response = call(api_event("GET", "nope", headers={"X-Correlation-Id": "abc-123"}), context)
    assert response["multiValueHeaders"]["X-Correlation-Id"] == ["abc-123"]


def test_storage_failure_is_a_json_500(api_event, context, aws):
    # no table exists in this account: the write fails inside the data layer
    status, body, _ = call(api_event("PUT", "apple", {"available": 1, "price_cents": 1}), context)
    assert status == 500
    assert body == {"error": "internal_error", "message": "an internal error; it is logged", "details": []}
