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


def test_there_is_one_schema_file_per_event_type():
    committed = sorted(path.name for path in schemas.DEFAULT_DIRECTORY.glob("*.json"))
    assert committed == sorted(f"{detail_type}.v1.json" for detail_type in EVENT_TYPES)


def test_files_are_stably_formatted():
    for path in schemas.DEFAULT_DIRECTORY.glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n", path.name


@pytest.mark.parametrize("detail_type", sorted(EVENT_TYPES))
def test_each_schema_names_its_event(detail_type):
    schema = schemas.generate()[detail_type]
    model = EVENT_TYPES[detail_type]

    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"urn:orderflow:events:{detail_type}:v1"
    assert schema["title"] == detail_type
    assert schema["x-source"] == model.SOURCE
    assert schema["x-detail-type"] == detail_type
    assert schema["x-schema-version"] == "1.0"
    assert schema["required"] == ["metadata", "data"]
    assert schema["additionalProperties"] is False


SAMPLES = [
    OrderPlaced(
        order_id="ord-1",
        customer_id="cus-1",
        items=[OrderLine(sku="A", quantity=1, unit_price_cents=100)],
        total_cents=100,
        payment_token="tok_visa",
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
    detail["metadata"]["schema_version"] = "2.0"
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
    (tmp_path / "OrderPlaced.v1.json").unlink()
    (tmp_path / "OrderShipped.v1.json").write_text("{}\n", encoding="utf-8")
    (tmp_path / "OrderPlaced.v0.json").write_text("{}\n", encoding="utf-8")  # an older major, still published

    assert schemas.main(["--check", "--dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"missing: {tmp_path / 'OrderPlaced.v1.json'}" in err
    assert f"stale: {tmp_path / 'OrderShipped.v1.json'}" in err
    assert "v0" not in err

    # Writing repairs both.
    schemas.write(tmp_path)
    assert schemas.differences(tmp_path) == []
    assert (tmp_path / "OrderPlaced.v0.json").exists()
