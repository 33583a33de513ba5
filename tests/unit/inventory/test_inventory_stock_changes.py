"""Stock changes that cannot race: versions and If-Match on PUT, idempotent adjustments, bounds.

Through inventory-api's Lambda handler with a moto table. Tests that run requests at the same
time use ``atomic_dynamodb``: moto's DynamoDB is not atomic under threads, DynamoDB is (per item,
and per transaction), so those tests make moto behave as the service does.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.exceptions import ClientError

from inventory.data.dynamodb import DynamoInventoryRepository
from inventory.domain.errors import StockChanged
from inventory.domain.models import MAX_AVAILABLE, MAX_DELTA, Adjustment, AdjustmentRecord
from inventory.handlers import api
from inventory.logic import Inventory

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics")


def call(event, context):
    response = api.lambda_handler(event, context)
    return response["statusCode"], json.loads(response["body"]), response.get("multiValueHeaders", {})


@pytest.fixture
def put(api_event, context):
    def send(sku, available, price_cents=100, **headers):
        names = {"if_match": "If-Match", "if_none_match": "If-None-Match"}
        event = api_event(
            "PUT",
            sku,
            {"available": available, "price_cents": price_cents},
            headers={names[k]: v for k, v in headers.items()},
        )
        return call(event, context)

    return send


@pytest.fixture
def adjust(api_event, context):
    def send(sku, body, key="key-1"):
        event = api_event("POST", sku, body, headers={"Idempotency-Key": key} if key is not None else {})
        path = f"/inventory/{sku}/adjustments"
        event.update(path=path, resource="/inventory/{sku}/adjustments")
        event["requestContext"].update(resourcePath="/inventory/{sku}/adjustments", path=f"/prod{path}")
        return call(event, context)

    return send


def stored(table, sku):
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": f"SKU#{sku}"}})["Item"]
    return {name: int(item[name]["N"]) for name in ("available", "reserved", "stocked", "version")}


def reserve(table, sku, quantity):
    """Move units to reserved the way a reservation does (the API function cannot reserve)."""
    boto3.client("dynamodb").update_item(
        TableName=table,
        Key={"pk": {"S": f"SKU#{sku}"}},
        UpdateExpression="SET available = available - :q, reserved = reserved + :q",
        ExpressionAttributeValues={":q": {"N": str(quantity)}},
    )


@pytest.fixture
def atomic_dynamodb(monkeypatch):
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()

    def locked(method):
        def wrapper(*args, **kwargs):
            with lock:
                return method(*args, **kwargs)

        return wrapper

    for name in ("get_item", "put_item", "update_item", "delete_item", "transact_write_items"):
        monkeypatch.setattr(DynamoDBBackend, name, locked(getattr(DynamoDBBackend, name)))


# --- versions and If-Match --------------------------------------------------------------------


def test_every_put_increments_the_version_returned_as_body_field_and_etag(table, put, api_event, context):
    for expected in (1, 2, 3):
        status, body, headers = put("plum", 5 + expected)
        assert status == 200
        assert body["version"] == expected
        assert headers["ETag"] == [f'"{expected}"']

    status, body, headers = call(api_event("GET", "plum"), context)
    assert (status, body["version"], headers["ETag"]) == (200, 3, ['"3"'])


def test_put_with_the_current_etag_writes_and_moves_the_version_on(table, put):
    _, first, headers = put("plum", 5)

    status, body, headers = put("plum", 9, if_match=headers["ETag"][0])

    assert status == 200
    assert (body["available"], body["version"]) == (9, first["version"] + 1)
    assert headers["ETag"] == [f'"{first["version"] + 1}"']


def test_put_with_a_stale_etag_is_412_in_the_error_shape_and_changes_nothing(table, put, scan_items):
    _, _, headers = put("plum", 5)
    stale = headers["ETag"][0]
    put("plum", 6, if_match=stale)  # someone else wrote in between
    before = scan_items()

    status, body, _ = put("plum", 100, if_match=stale)

    assert status == 412
    assert body["error"] == "precondition_failed"
    assert body["details"][0]["context"]["sku"] == "plum"
    assert body["details"][0]["context"]["current_version"] == 2
    assert scan_items() == before
    assert stored(table, "plum")["available"] == 6


def test_two_writers_with_the_same_etag_one_wins_the_other_gets_412(table, put, atomic_dynamodb):
    _, _, headers = put("plum", 5)
    etag = headers["ETag"][0]
    start = threading.Barrier(8, timeout=60)  # a stuck thread fails the test instead of hanging the suite

    def write(available):
        start.wait()
        return put("plum", available, if_match=etag)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(write, range(10, 18)))

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] + [412] * 7
    (winner,) = [body for status, body, _ in results if status == 200]
    assert stored(table, "plum") == {
        "available": winner["available"],
        "reserved": 0,
        "stocked": winner["available"],
        "version": 2,
    }


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ('"1"', 200),
        ("1", 200),  # unquoted, as the body's version field reads
        ('"7", "1"', 200),  # any of a list
        ('W/"1"', 412),  # weak tags never match: If-Match compares strongly
        ('"2"', 412),
        ("*", 200),
    ],
)
def test_if_match_forms(table, put, if_match, status):
    put("plum", 5)
    assert put("plum", 6, if_match=if_match)[0] == status


@pytest.mark.parametrize("if_match", ['"1"', "*"])
def test_if_match_on_a_sku_that_does_not_exist_is_412_and_creates_nothing(table, put, scan_items, if_match):
    status, body, _ = put("ghost", 5, if_match=if_match)

    assert status == 412
    assert body["details"][0]["context"]["current_version"] is None
    assert scan_items() == []


def test_if_none_match_star_creates_only(table, put):
    assert put("plum", 5, if_none_match="*")[0] == 200
    status, body, _ = put("plum", 7, if_none_match="*")
    assert (status, body["error"], body["details"][0]["context"]["current_version"]) == (412, "precondition_failed", 1)


def test_put_without_preconditions_creates_and_overwrites(table, put):
    assert put("plum", 5)[0] == 200
    assert put("plum", 6)[0] == 200
    assert stored(table, "plum")["available"] == 6


@pytest.mark.parametrize("if_match", ["seven", '"1', '"99999999999999999999"', ""])
def test_an_if_match_naming_no_version_fails_closed_with_412(table, put, scan_items, if_match):
    put("plum", 5)
    before = scan_items()

    status, body, _ = put("plum", 6, if_match=if_match)

    assert (status, body["error"]) == (412, "precondition_failed")
    assert scan_items() == before


@pytest.mark.parametrize(("if_none_match", "status"), [('"1"', 412), ('W/"1"', 412), ('"2", "3"', 200), ("junk", 200)])
def test_if_none_match_with_tags_refuses_only_the_versions_named(table, put, if_none_match, status):
    put("plum", 5)
    assert put("plum", 6, if_none_match=if_none_match)[0] == status


@pytest.mark.parametrize("header", ["If-Match", "If-None-Match"])
def test_an_overlong_precondition_header_is_422_naming_it_and_writes_nothing(
    table, api_event, context, scan_items, header
):
    event = api_event("PUT", "plum", {"available": 5, "price_cents": 100}, headers={header: '"1",' * 80})

    status, body, _ = call(event, context)

    assert status == 422
    assert [d["field"] for d in body["details"]] == [header]
    assert body["details"][0]["location"] == "header"
    assert scan_items() == []


def test_an_item_written_before_versions_reads_as_version_0_and_if_match_0_updates_it(table, put, api_event, context):
    boto3.client("dynamodb").put_item(
        TableName=table,
        Item={
            "pk": {"S": "SKU#old"},
            "sku": {"S": "old"},
            "available": {"N": "4"},
            "reserved": {"N": "1"},
            "stocked": {"N": "5"},
            "price_cents": {"N": "300"},
        },
    )
    status, body, headers = call(api_event("GET", "old"), context)
    assert (status, body["version"], headers["ETag"]) == (200, 0, ['"0"'])

    status, body, _ = put("old", 8, if_match='"0"')

    assert (status, body["version"]) == (200, 1)
    assert stored(table, "old") == {"available": 8, "reserved": 1, "stocked": 9, "version": 1}


def test_a_conditional_put_keeps_reserved_units_and_conservation(table, put):
    _, _, headers = put("plum", 5)
    reserve(table, "plum", 2)

    status, body, _ = put("plum", 10, if_match=headers["ETag"][0])

    assert (status, body["reserved"]) == (200, 2)
    item = stored(table, "plum")
    assert item["available"] + item["reserved"] == item["stocked"] == 12


@pytest.mark.parametrize(("available", "price_cents"), [(MAX_AVAILABLE, 1), (0, 100_000_000)])
def test_the_maximums_themselves_are_accepted(table, put, available, price_cents):
    assert put("plum", available, price_cents)[0] == 200


# --- adjustments ------------------------------------------------------------------------------


def test_an_adjustment_adds_to_available_and_moves_the_version_on(table, put, adjust):
    put("plum", 5)
    reserve(table, "plum", 2)

    status, body, headers = adjust("plum", {"delta": 10, "reason": "restock from supplier"})

    assert status == 200
    assert body == {"sku": "plum", "available": 13, "reserved": 2, "price_cents": 100, "version": 2}
    assert headers["ETag"] == ['"2"']
    assert "Idempotent-Replayed" not in headers
    assert stored(table, "plum") == {"available": 13, "reserved": 2, "stocked": 15, "version": 2}


def test_a_retry_with_the_same_key_returns_the_first_result_and_applies_once(table, put, adjust, scan_items):
    put("plum", 5)
    first = adjust("plum", {"delta": 3})
    put("plum", 50)  # the item moves on; the retry still answers what the adjustment produced

    status, body, headers = adjust("plum", {"delta": 3})

    assert (status, body) == (200, first[1])
    assert headers["ETag"] == first[2]["ETag"]
    assert headers["Idempotent-Replayed"] == ["true"]
    assert stored(table, "plum")["available"] == 50
    assert len([i for i in scan_items() if i["pk"]["S"].startswith("ADJ#")]) == 1


def test_the_same_key_with_another_body_is_422_naming_the_header_and_changes_nothing(table, put, adjust, scan_items):
    put("plum", 5)
    adjust("plum", {"delta": 3})
    before = scan_items()

    for body in ({"delta": 4}, {"delta": 3, "reason": "other"}):
        status, error, _ = adjust("plum", body)
        assert status == 422
        assert error["error"] == "idempotency_key_conflict"
        assert error["details"][0]["field"] == "Idempotency-Key"
    assert scan_items() == before


def test_keys_are_scoped_per_sku(table, put, adjust):
    put("plum", 5)
    put("pear", 5)
    assert adjust("plum", {"delta": 1}, key="k")[1]["available"] == 6
    assert adjust("pear", {"delta": 2}, key="k")[1]["available"] == 7


def test_a_missing_idempotency_key_is_400_naming_it_and_writes_nothing(table, put, adjust, scan_items):
    put("plum", 5)
    before = scan_items()

    status, body, _ = adjust("plum", {"delta": 1}, key=None)

    assert status == 400
    assert body["error"] == "missing_header"
    assert [d["field"] for d in body["details"]] == ["Idempotency-Key"]
    assert scan_items() == before


def test_a_negative_delta_takes_stock_but_never_below_zero(table, put, adjust, scan_items):
    put("plum", 5)
    reserve(table, "plum", 1)
    assert adjust("plum", {"delta": -3}, key="a")[1]["available"] == 1
    before = scan_items()

    status, body, _ = adjust("plum", {"delta": -2}, key="b")

    assert status == 409
    assert body["error"] == "insufficient_stock"
    assert body["details"][0]["field"] == "delta"
    assert (body["details"][0]["context"]["available"], body["details"][0]["context"]["delta"]) == (1, -2)
    assert scan_items() == before, "a refusal writes nothing, not even the key"
    # the refusal was not recorded: once stock arrives the same key applies
    adjust("plum", {"delta": 5}, key="c")
    assert adjust("plum", {"delta": -2}, key="b")[1]["available"] == 4
    assert stored(table, "plum") == {"available": 4, "reserved": 1, "stocked": 5, "version": 4}


def test_taking_available_to_exactly_zero_is_allowed(table, put, adjust):
    put("plum", 5)
    assert adjust("plum", {"delta": -5})[1]["available"] == 0


def test_an_adjustment_past_the_maximum_available_is_409(table, put, adjust, scan_items):
    put("plum", MAX_AVAILABLE - 10)
    before = scan_items()

    status, body, _ = adjust("plum", {"delta": 11})

    assert (status, body["error"]) == (409, "stock_limit_exceeded")
    assert scan_items() == before


def test_an_adjustment_of_an_unknown_sku_is_404_and_writes_nothing(table, adjust, scan_items):
    status, body, _ = adjust("ghost", {"delta": 1})
    assert (status, body["error"], body["details"][0]["field"]) == (404, "sku_not_found", "sku")
    assert scan_items() == []


@pytest.mark.parametrize(
    ("payload", "field", "error_type"),
    [
        ({"delta": 0}, "delta", "not_zero"),
        ({"delta": MAX_DELTA + 1}, "delta", "less_than_equal"),
        ({"delta": -MAX_DELTA - 1}, "delta", "greater_than_equal"),
        ({"delta": 10**40}, "delta", "less_than_equal"),
        ({"delta": "5"}, "delta", "int_type"),
        ({"delta": 5.0}, "delta", "int_type"),
        ({"delta": True}, "delta", "int_type"),
        ({}, "delta", "missing"),
        ({"delta": 1, "reason": ""}, "reason", "string_too_short"),
        ({"delta": 1, "reason": "x" * 201}, "reason", "string_too_long"),
        ({"delta": 1, "reason": "line\nbreak"}, "reason", "string_pattern_mismatch"),
        ({"delta": 1, "colour": "red"}, "colour", "extra_forbidden"),
        ([{"delta": 1}], "body", "model_attributes_type"),
    ],
)
def test_an_invalid_adjustment_is_422_naming_the_field_and_writes_nothing(
    table, put, adjust, scan_items, payload, field, error_type
):
    put("plum", 5)
    before = scan_items()

    status, body, _ = adjust("plum", payload)

    # a body that is not a JSON object cannot be understood at all: 400, the others 422
    assert (status, body["error"]) == ((400, "malformed_body") if field == "body" else (422, "validation_error")), body
    assert {"field": field, "type": error_type} in [{"field": d["field"], "type": d["type"]} for d in body["details"]]
    assert scan_items() == before


@pytest.mark.parametrize("delta", [MAX_DELTA, -MAX_DELTA])
def test_the_delta_bounds_themselves_are_accepted(table, put, adjust, delta):
    put("plum", MAX_DELTA)
    assert adjust("plum", {"delta": delta})[0] == 200


def test_a_key_longer_than_128_characters_is_422(table, put, adjust):
    put("plum", 5)
    status, body, _ = adjust("plum", {"delta": 1}, key="k" * 129)
    assert status == 422
    assert body["details"][0]["field"] == "Idempotency-Key"


# --- adjustments racing ------------------------------------------------------------------------


def test_the_same_key_sent_concurrently_applies_once(table, put, adjust, scan_items, atomic_dynamodb):
    put("plum", 5)
    start = threading.Barrier(8, timeout=60)  # a stuck thread fails the test instead of hanging the suite

    def send(_):
        start.wait()
        return adjust("plum", {"delta": 4}, key="burst")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, range(8)))

    assert {status for status, _, _ in results} == {200}
    assert all(body == results[0][1] for _, body, _ in results)
    assert sum(1 for _, _, headers in results if "Idempotent-Replayed" not in headers) == 1
    assert stored(table, "plum") == {"available": 9, "reserved": 0, "stocked": 9, "version": 2}
    assert len([i for i in scan_items() if i["pk"]["S"].startswith("ADJ#")]) == 1


def test_different_keys_sent_concurrently_all_apply(table, put, adjust, atomic_dynamodb):
    put("plum", 5)
    start = threading.Barrier(4, timeout=60)  # a stuck thread fails the test instead of hanging the suite

    def send(index):
        start.wait()
        return adjust("plum", {"delta": index + 1}, key=f"k-{index}")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(send, range(4)))

    assert [status for status, _, _ in results] == [200] * 4
    assert sorted(body["version"] for _, body, _ in results) == [2, 3, 4, 5]
    assert stored(table, "plum") == {"available": 15, "reserved": 0, "stocked": 15, "version": 5}


class _Interleaved(DynamoInventoryRepository):
    """Runs ``before_apply`` once, just before the first adjustment transaction is sent."""

    def __init__(self, table, before_apply):
        super().__init__(table)
        self._before_apply = before_apply

    def apply_adjustment(self, record, expected):
        hook, self._before_apply = self._before_apply, None
        if hook is not None:
            hook()
        return super().apply_adjustment(record, expected)


def test_losing_the_race_to_the_same_key_returns_the_winners_result(table, put):
    put("plum", 5)
    winner = Inventory(DynamoInventoryRepository(table))
    results = []
    loser = Inventory(_Interleaved(table, lambda: results.append(winner.adjust_stock(Adjustment("plum", "k", 2)))))

    outcome = loser.adjust_stock(Adjustment("plum", "k", 2))

    assert outcome.replayed
    assert outcome.item == results[0].item
    assert stored(table, "plum")["available"] == 7


def test_a_reservation_between_read_and_write_is_not_lost(table, put):
    put("plum", 5)
    inventory = Inventory(_Interleaved(table, lambda: reserve(table, "plum", 2)))

    outcome = inventory.adjust_stock(Adjustment("plum", "k", 10))

    assert (outcome.item.available, outcome.item.reserved) == (13, 2)
    assert stored(table, "plum") == {"available": 13, "reserved": 2, "stocked": 15, "version": 2}


def test_a_transaction_conflict_is_retried(table, put, monkeypatch):
    put("plum", 5)
    original = DynamoInventoryRepository.apply_adjustment
    calls = []

    def conflicting(self, record, expected):
        calls.append(record.key)
        if len(calls) == 1:
            raise StockChanged(record.sku)
        return original(self, record, expected)

    monkeypatch.setattr(DynamoInventoryRepository, "apply_adjustment", conflicting)

    outcome = Inventory(DynamoInventoryRepository(table)).adjust_stock(Adjustment("plum", "k", 1))

    assert (outcome.item.available, len(calls)) == (6, 2)


def test_the_data_layer_reads_transaction_conflicts_as_stock_changed(table, put):
    class ConflictingClient:
        def transact_write_items(self, **_):
            raise ClientError(
                {
                    "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                    "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
                },
                "TransactWriteItems",
            )

    put("plum", 5)
    current = DynamoInventoryRepository(table).get_stock("plum")
    assert current is not None
    record = AdjustmentRecord("plum", "k", 1, None, "hash", current, "2026-01-01T00:00:00+00:00")

    with pytest.raises(StockChanged):
        DynamoInventoryRepository(table, client=ConflictingClient()).apply_adjustment(record, current)
