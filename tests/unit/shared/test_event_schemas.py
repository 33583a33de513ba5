"""The committed JSON Schemas are the event contract: they must match the models, and the events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from jsonschema import Draft202012Validator

from shared import schemas
from shared.events import (
    EVENT_TYPES,
    InventoryRejected,
    OrderConfirmed,
    OrderLine,
    OrderPlaced,
    ShipmentScheduled,
    new_event,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_committed_schemas_match_the_models():
    # Fails when a model in shared.events changed and `python -m shared.schemas` was not run.
    problems = schemas.differences(schemas.DEFAULT_DIRECTORY)
    assert problems == [], "\n".join(problems)


def test_there_is_one_schema_file_per_event_type_and_major():
    committed = sorted(path.name for path in schemas.DEFAULT_DIRECTORY.glob("*.json"))
    current = {
        f"{detail_type}.v{model.SCHEMA_VERSION.split('.')[0]}.json" for detail_type, model in EVENT_TYPES.items()
    }
    # 2.0 replaced the card token by a payment reference; the v1 contracts stay published.
    retired = {"OrderPlaced.v1.json", "InventoryReserved.v1.json"}
    assert "OrderPlaced.v2.json" in current and "InventoryReserved.v2.json" in current
    assert committed == sorted(current | retired)


def test_no_current_schema_carries_a_payment_token():
    for detail_type, schema in schemas.generate().items():
        assert "payment_token" not in json.dumps(schema), detail_type


def test_files_are_stably_formatted():
    for path in schemas.DEFAULT_DIRECTORY.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n", path.name


@pytest.mark.parametrize("detail_type", sorted(EVENT_TYPES))
def test_each_schema_names_its_event(detail_type):
    schema = schemas.generate()[detail_type]
    model = EVENT_TYPES[detail_type]

    Draft202012Validator.check_schema(schema)
    major = model.SCHEMA_VERSION.split(".")[0]
    assert schema["$id"] == f"urn:orderflow:events:{detail_type}:v{major}"
    assert schema["title"] == detail_type
    assert schema["x-source"] == model.SOURCE
    assert schema["x-detail-type"] == detail_type
    assert schema["x-schema-version"] == model.SCHEMA_VERSION
    assert schema["required"] == ["metadata", "data"]
    assert schema["additionalProperties"] is False


SAMPLES = [
    OrderPlaced(
        order_id="ord-1",
        customer_id="cus-1",
        items=[OrderLine(sku="A", quantity=1, unit_price_cents=100)],
        total_cents=100,
        payment_ref="kms1:c2VhbGVk",
    ),
    OrderConfirmed(
        order_id="ord-1",
        customer_id="cus-1",
        items=[OrderLine(sku="A", quantity=1, unit_price_cents=100)],
        total_cents=1,
    ),
    InventoryRejected(order_id="ord-1", reason="OUT_OF_STOCK"),
    ShipmentScheduled(order_id="ord-1", shipment_id="shp-1"),
]


@pytest.mark.parametrize("data", SAMPLES, ids=lambda data: data.DETAIL_TYPE)
def test_events_as_published_validate_against_their_schema(data):
    detail = json.loads(json.dumps(new_event(data, correlation_id="c", flow="orchestrated", time=T0).detail()))
    validator = Draft202012Validator(schemas.generate()[data.DETAIL_TYPE])

    assert list(validator.iter_errors(detail)) == []
    # ...and the schema is strict where the models are.
    detail["data"]["unexpected"] = 1
    assert not validator.is_valid(detail)
    del detail["data"]["unexpected"]
    detail["metadata"]["schema_version"] = "9.0"
    assert not validator.is_valid(detail)


def test_check_reports_a_model_change_that_was_not_regenerated(tmp_path, monkeypatch):
    assert schemas.main(["--dir", str(tmp_path)]) == 0
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 0

    class ShipmentScheduledWithCarrier(ShipmentScheduled):
        DETAIL_TYPE: ClassVar[str] = "ShipmentScheduled"
        carrier: str

    monkeypatch.setitem(schemas.EVENT_TYPES, "ShipmentScheduled", ShipmentScheduledWithCarrier)

    problems = schemas.differences(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith(f"outdated: {tmp_path / 'ShipmentScheduled.v1.json'}")
    assert '+        "carrier": {' in problems[0]
    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 1


def test_check_reports_missing_and_stale_files(tmp_path, capsys):
    schemas.write(tmp_path)
    (tmp_path / "OrderPlaced.v2.json").unlink()
    (tmp_path / "OrderShipped.v1.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "PaymentFailed.v2.json").write_text("{}\n", encoding="utf-8")  # ahead of its model
    (tmp_path / "OrderPlaced.v1.json").write_text("{}\n", encoding="utf-8")  # an older major, still published

    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"missing: {tmp_path / 'OrderPlaced.v2.json'}" in err
    assert f"stale: {tmp_path / 'OrderShipped.v1.json'}" in err
    assert f"stale: {tmp_path / 'PaymentFailed.v2.json'}" in err
    assert "OrderPlaced.v1" not in err

    # Writing repairs them.
    schemas.write(tmp_path)
    assert schemas.differences(tmp_path) == []
    assert (tmp_path / "OrderPlaced.v1.json").exists()
    assert not (tmp_path / "PaymentFailed.v2.json").exists()
