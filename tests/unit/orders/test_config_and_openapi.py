"""Configuration is validated at cold start; the OpenAPI document describes the API's models."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from orders.config import ApiSettings, ProjectorSettings, ReconcilerSettings, SagaTasksSettings
from orders.openapi import openapi_json
from shared.config import load, reset

API_ENV = {
    "ORDERS_TABLE": "orders",
    "ORDER_EVENTS_TABLE": "order-events",
    "IDEMPOTENCY_TABLE": "idempotency",
    "INVENTORY_TABLE": "inventory",
    "SAGA_STATE_MACHINE_ARN": "arn:aws:states:eu-west-1:123456789012:stateMachine:OrderSaga",
    "PAYMENT_REF_KEY_ID": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}


def test_api_config_reads_the_environment_with_defaults() -> None:
    config = ApiSettings.from_environment(API_ENV)

    assert config.orders_table == "orders" and config.inventory_table == "inventory"
    assert config.payment_ref_key_id == API_ENV["PAYMENT_REF_KEY_ID"]
    assert config.saga_timeout_seconds == 25.0 and config.idempotency_ttl_seconds == 86_400


def test_missing_or_bad_variables_are_named() -> None:
    with pytest.raises(ValidationError) as missing:
        ApiSettings.from_environment({k: v for k, v in API_ENV.items() if k != "INVENTORY_TABLE"})
    with pytest.raises(ValidationError) as bad_arn:
        ApiSettings.from_environment({**API_ENV, "SAGA_STATE_MACHINE_ARN": "order-saga"})
    with pytest.raises(ValidationError) as no_key:
        ApiSettings.from_environment({k: v for k, v in API_ENV.items() if k != "PAYMENT_REF_KEY_ID"})

    assert "PAYMENT_REF_KEY_ID" in str(no_key.value)
    assert "INVENTORY_TABLE" in str(missing.value)
    assert "SAGA_STATE_MACHINE_ARN" in str(bad_arn.value)


def test_settings_are_loaded_once_until_reset(monkeypatch) -> None:
    monkeypatch.setenv("ORDERS_TABLE", "first")
    reset()
    first = load(ProjectorSettings)
    monkeypatch.setenv("ORDERS_TABLE", "second")

    assert load(ProjectorSettings) is first
    reset()
    assert load(ProjectorSettings).orders_table == "second"
    reset()


def test_each_function_requires_only_its_own_variables(monkeypatch) -> None:
    monkeypatch.delenv("SAGA_STATE_MACHINE_ARN", raising=False)

    with pytest.raises(ValidationError, match="SAGA_STATE_MACHINE_ARN"):
        ReconcilerSettings.from_environment({"ORDERS_TABLE": "orders"})
    assert SagaTasksSettings.from_environment({"ORDERS_TABLE": "orders"}).saga_lease_seconds == 270
    assert ProjectorSettings.from_environment({"ORDERS_TABLE": "orders"}).orders_table == "orders"


def test_openapi_document_describes_routes_and_strict_models() -> None:
    document = json.loads(openapi_json())

    assert set(document["paths"]) == {"/orders", "/orders/{order_id}", "/orders/{order_id}/timeline"}
    assert set(document["paths"]["/orders"]) == {"post"}
    post = document["paths"]["/orders"]["post"]
    assert {"201", "202", "400", "402", "409", "422", "503"} <= set(post["responses"])
    # A saga that outlives the API's budget is a 202 PENDING, never a gateway error.
    assert not {"502", "504"} & set(post["responses"])
    assert {p["name"].lower() for p in post["parameters"]} == {"idempotency-key", "x-correlation-id"}
    schemas = document["components"]["schemas"]
    request = schemas["PlaceOrderRequest"]
    assert request["additionalProperties"] is False
    assert set(request["required"]) == {"customer_id", "items", "payment", "flow"}
    assert request["properties"]["items"]["maxItems"] == 25 and request["properties"]["items"]["minItems"] == 1
    line = schemas["OrderLineInput"]
    assert line["properties"]["quantity"]["minimum"] == 1 and line["properties"]["quantity"]["maximum"] == 1000
    assert line["properties"]["sku"]["pattern"] == "^[A-Za-z0-9._-]+$"
    assert schemas["PaymentInput"]["properties"]["token"]["writeOnly"] is True
    assert "payment_token" not in json.dumps(schemas["OrderView"])
