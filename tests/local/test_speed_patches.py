"""The speed patches change how fast moto answers, never what it answers.

`local.patches.answers.cache_response_keys` keeps, per output member, the keys moto's serializer
tries; here every answer it gives is compared byte for byte with the one moto's own lookup gives
for the same result, over generated DynamoDB items and other services' outputs."""

from __future__ import annotations

import datetime
import json
import re
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.patches import answers, speed

answers.cache_response_keys()

from moto.core import serialize  # noqa: E402  (after the patch, which it reads)
from moto.core.utils import get_service_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
names = st.text(st.characters(codec="utf-8"), max_size=12)
numbers = st.one_of(st.integers(), st.decimals(allow_nan=False, allow_infinity=False, places=3)).map(str)
blobs = st.one_of(st.binary(max_size=16), st.text(max_size=8))


def _attribute_values() -> st.SearchStrategy[Any]:
    scalar = st.one_of(
        st.builds(lambda v: {"S": v}, st.text(max_size=20)),
        st.builds(lambda v: {"N": v}, numbers),
        st.builds(lambda v: {"B": v}, blobs),
        st.builds(lambda v: {"SS": v}, st.lists(st.text(max_size=5), min_size=1, max_size=3)),
        st.builds(lambda v: {"NS": v}, st.lists(numbers, min_size=1, max_size=3)),
        st.builds(lambda v: {"BS": v}, st.lists(blobs, min_size=1, max_size=3)),
        st.just({"NULL": True}),
        st.builds(lambda v: {"BOOL": v}, st.booleans()),
        # What a result could hold that no well-formed item does: the snake_case and dotted
        # names the lookup also tries, members the shape does not have, an empty value.
        st.builds(lambda v: {"s": v}, st.text(max_size=5)),
        st.builds(lambda v: {"S": v, "N": "1"}, st.text(max_size=5)),
        st.just({"extra": 1}),
        st.just({"S": ""}),
        st.just({}),
    )
    return st.recursive(
        scalar,
        lambda children: st.one_of(
            st.builds(lambda v: {"M": v}, st.dictionaries(names, children, max_size=3)),
            st.builds(lambda v: {"L": v}, st.lists(children, max_size=3)),
        ),
        max_leaves=12,
    )


items = st.dictionaries(names, _attribute_values(), max_size=6)


def _answer(service: str, operation: str, result: Any, *, moto_lookup: bool) -> Any:
    model = get_service_model(service)
    operation_model = model.operation_model(operation)
    serializer_class = serialize.get_serializer_class(service, str(model.protocol))
    serializer = serializer_class(
        operation_model=operation_model,
        pretty_print=False,
        value_picker=serialize.XFormedAttributePicker(response_transformers=None),
    )
    patched = serialize.ResponseSerializer.get_value
    if moto_lookup:
        serialize.ResponseSerializer.get_value = patched._moto_original  # type: ignore[attr-defined,method-assign]
    try:
        return serializer.serialize(result)
    finally:
        serialize.ResponseSerializer.get_value = patched  # type: ignore[method-assign]


def _same(service: str, operation: str, result: Any) -> None:
    ours = _answer(service, operation, result, moto_lookup=False)
    motos = _answer(service, operation, result, moto_lookup=True)
    assert ours == motos


def test_the_patch_is_installed_once() -> None:
    installed = serialize.ResponseSerializer.get_value
    assert getattr(installed, "_local_cached", False)
    answers.cache_response_keys()
    assert serialize.ResponseSerializer.get_value is installed


@settings(max_examples=150)
@given(item=items, consumed=st.none() | st.floats(0, 10))
def test_get_item_answers_as_moto_does(item: dict[str, Any], consumed: float | None) -> None:
    result: dict[str, Any] = {"Item": item}
    if consumed is not None:
        result["ConsumedCapacity"] = {"TableName": "t", "CapacityUnits": consumed}
    _same("dynamodb", "GetItem", result)


@settings(max_examples=75)
@given(found=st.lists(items, max_size=4), last=st.none() | items)
def test_query_and_batch_get_answer_as_moto_does(found: list[dict[str, Any]], last: dict[str, Any] | None) -> None:
    query: dict[str, Any] = {"Items": found, "Count": len(found), "ScannedCount": len(found)}
    if last is not None:
        query["LastEvaluatedKey"] = last
    _same("dynamodb", "Query", query)
    _same("dynamodb", "BatchGetItem", {"Responses": {"t": found}, "UnprocessedKeys": {}})


def test_the_lookup_differs_from_a_plain_dict_read_where_moto_does() -> None:
    # A member present only in snake_case is found by both lookups: the cache keeps moto's
    # alternatives, not only the member's own name.
    answer = _answer("dynamodb", "GetItem", {"Item": {"a": {"s": "x"}}}, moto_lookup=False)
    assert b'"S": "x"' in str(answer["body"]).encode()
    _same("dynamodb", "GetItem", {"Item": {"a": {"s": "x"}}})


@pytest.mark.parametrize(
    ("service", "operation", "result"),
    [
        (
            "sqs",
            "ReceiveMessage",
            {"Messages": [{"MessageId": "m", "ReceiptHandle": "r", "Body": "b", "Attributes": {"SentTimestamp": "1"}}]},
        ),
        ("sns", "Publish", {"MessageId": "m", "SequenceNumber": None}),
        (
            "stepfunctions",
            "DescribeExecution",
            {
                "executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:e",
                "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:m",
                "status": "RUNNING",
                "startDate": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
                "input": "{}",
            },
        ),
        (
            "lambda",
            "GetFunctionConfiguration",
            {"FunctionName": "f", "Timeout": 3, "Environment": {"Variables": {"A": "1"}}},
        ),
    ],
)
def test_other_services_answer_as_moto_does(service: str, operation: str, result: dict[str, Any]) -> None:
    _same(service, operation, result)


# --- moto's server without Flask (local.patches.answers.answer_without_flask) --------------------


def _signed(service: str, **headers: str) -> dict[str, str]:
    scope = f"AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/{service}/aws4_request"
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0", **headers}


DYNAMODB = _signed("dynamodb", **{"Content-Type": "application/x-amz-json-1.0"})
SQS = _signed("sqs", **{"Content-Type": "application/x-amz-json-1.0"})
SNS = _signed("sns", **{"Content-Type": "application/x-www-form-urlencoded"})
LAMBDA = _signed("lambda")
S3 = _signed("s3")
TABLE = "speed-patches-table"


def _dynamodb(action: str, body: dict[str, Any]) -> tuple[str, str, dict[str, str], bytes]:
    return "POST", "/", {**DYNAMODB, "X-Amz-Target": f"DynamoDB_20120810.{action}"}, json.dumps(body).encode()


def _wsgi(app: Any, method: str, path: str, headers: dict[str, str], body: bytes, *, lean: bool) -> Any:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=path, method=method, headers=list(headers.items()), data=body).get_environ()
    answered: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        answered["status"], answered["headers"] = status, response_headers

    backend_app = app.get_application(environ)
    chunks = answers.answer_without_flask(backend_app, environ, start_response) if lean else None
    if chunks is None:
        if lean:
            return None
        chunks = backend_app(environ, start_response)
    text = b"".join(chunks).decode()
    # Request ids are drawn per request; everything else must match.
    text = re.sub(r"<RequestId>[^<]*</RequestId>", "<RequestId/>", text)
    volatile = {"x-amzn-requestid", "x-amz-crc32", "date", "x-amz-request-id", "x-amz-id-2"}
    headers_kept = sorted((k.lower(), v) for k, v in answered["headers"] if k.lower() not in volatile)
    return answered["status"], headers_kept, text


@pytest.fixture(scope="module")
def moto_app() -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    _wsgi(app, *_dynamodb("CreateTable", {
        "TableName": TABLE,
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }), lean=False)  # fmt: skip
    return app


REQUESTS = {
    "dynamodb put": _dynamodb("PutItem", {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "n": {"N": "1"}}}),
    "dynamodb get": _dynamodb("GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "a"}}}),
    "dynamodb describe": _dynamodb("DescribeTable", {"TableName": TABLE}),
    "dynamodb error": _dynamodb("GetItem", {"TableName": "no-such-table", "Key": {"pk": {"S": "a"}}}),
    "dynamodb bad condition": _dynamodb(
        "PutItem", {"TableName": TABLE, "Item": {"pk": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(pk)"}
    ),
    "sqs json": ("POST", "/", {**SQS, "X-Amz-Target": "AmazonSQS.CreateQueue"}, b'{"QueueName": "speed-q"}'),
    "sns query xml": ("POST", "/", SNS, b"Action=CreateTopic&Name=speed-topic&Version=2010-03-31"),
    "lambda rest list": ("GET", "/2015-03-31/functions/", LAMBDA, b""),
    "lambda rest 404": ("GET", "/2015-03-31/functions/no-such-function", LAMBDA, b""),
    "s3 head 404": ("HEAD", "/no-such-bucket-speed", S3, b""),
}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_moto_answers_without_flask_as_with_it(moto_app: Any, name: str) -> None:
    method, path, headers, body = REQUESTS[name]
    with_flask = _wsgi(moto_app, method, path, headers, body, lean=False)
    without = _wsgi(moto_app, method, path, headers, body, lean=True)
    assert without is not None, f"{name}: Flask was needed"
    assert without == with_flask


@pytest.mark.parametrize(
    ("method", "headers"),
    [("POST", {**DYNAMODB, "Origin": "http://localhost:3000"}), ("OPTIONS", DYNAMODB)],
    ids=["browser origin", "preflight"],
)
def test_browser_requests_are_left_to_flask(moto_app: Any, method: str, headers: dict[str, str]) -> None:
    body = json.dumps({"TableName": TABLE}).encode()
    target = {**headers, "X-Amz-Target": "DynamoDB_20120810.DescribeTable"}
    assert _wsgi(moto_app, method, "/", target, body, lean=True) is None
    _, answered_headers, _ = _wsgi(moto_app, method, "/", target, body, lean=False)
    assert dict(answered_headers)["access-control-allow-origin"] in ("*", "http://localhost:3000")


# --- the Step Functions interpreter: one parse per definition, no Batch task until one is built ---


def test_a_definition_is_parsed_once_and_a_bad_one_is_refused_every_time() -> None:
    from local import patches

    patches.install()
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
    program, _ = AmazonStateLanguageParser.parse(definition)
    assert AmazonStateLanguageParser.parse(definition)[0] is program
    broken = '{"StartAt": "Done", "States": {'
    for _ in range(2):
        with pytest.raises(ASLParserException):
            AmazonStateLanguageParser.parse(broken)


def test_the_batch_task_is_imported_only_when_a_state_machine_uses_it() -> None:
    # A fresh interpreter: this one may have imported moto.batch for other tests.
    script = """
import sys
from local import patches
patches.install()
import moto.stepfunctions.parser.backend.execution
assert "moto.ec2" not in sys.modules and "moto.batch" not in sys.modules, "imported at install"
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_factory
task = state_task_service_factory.state_task_service_for("batch")
print(type(task).__module__, type(task).__name__, "moto.batch" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    module, name, imported = done.stdout.split()
    assert (module, name, imported) == (speed._BATCH_TASK, "StateTaskServiceBatch", "True")


# --- names and ids ---------------------------------------------------------------------------


def test_names_are_converted_as_moto_converts_them_and_remembered() -> None:
    from local import patches

    patches.install()
    from moto.core import responses
    from moto.core.utils import camelcase_to_underscores
    from moto.sqs import models

    converted = responses.camelcase_to_underscores
    assert getattr(converted, "_local_cached", False)
    assert models.camelcase_to_underscores is converted
    from moto.core import utils

    assert utils.camelcase_to_underscores is converted  # what a moto module imported later gets
    for name in ("PutItem", "TransactWriteItems", "ApproximateNumberOfMessagesNotVisible", "KmsMasterKeyId", "", "A"):
        assert converted(name) == converted.__wrapped__(name)  # type: ignore[attr-defined]
    assert camelcase_to_underscores("GetQueueAttributes") == "get_queue_attributes"


@pytest.mark.parametrize(
    ("options", "alphabet"),
    [
        ({}, set(string.ascii_letters + string.digits)),
        ({"include_digits": False}, set(string.ascii_letters)),
        ({"lower_case": True}, set(string.ascii_lowercase + string.digits)),
    ],
)
def test_random_strings_keep_moto_s_length_alphabet_and_seeding(options: dict[str, bool], alphabet: set[str]) -> None:
    from local import patches

    patches.install()
    from moto.moto_api._internal.moto_random import MotoRandom

    generator = MotoRandom()
    drawn = [generator.get_random_string(52, **options) for _ in range(200)]
    assert all(len(value) == 52 for value in drawn)
    assert set("".join(drawn)) == alphabet  # every character of the pool, and no other, turns up
    assert len(set(drawn)) == len(drawn)
    hex_digits = "".join(generator.get_random_hex(8) for _ in range(100))
    assert set(hex_digits) == set("0123456789abcdef")
    generator.seed(7)
    first = [generator.get_random_string(20, **options), generator.get_random_hex()]
    generator.seed(7)
    assert [generator.get_random_string(20, **options), generator.get_random_hex()] == first


def test_receipt_handles_keep_their_length_and_letters() -> None:
    from local import patches

    patches.install()
    from moto.sqs import models, utils

    assert models.generate_receipt_handle is utils.generate_receipt_handle
    handles = [models.generate_receipt_handle() for _ in range(50)]
    assert {len(handle) for handle in handles} == {185}
    assert set("".join(handles)) == set(string.ascii_lowercase)
    assert len(set(handles)) == 50


# --- JSON copies ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=25,
)


def _containers(value: Any) -> list[Any]:
    found = [value] if isinstance(value, dict | list) else []
    for item in value.values() if isinstance(value, dict) else value if isinstance(value, list) else []:
        found += _containers(item)
    return found


@given(value=json_values)
def test_a_json_copy_is_equal_and_shares_no_container(value: Any) -> None:
    import copy

    copied = speed.json_copy(value)
    assert copied == value == copy.deepcopy(value)
    originals = {id(container) for container in _containers(value)}
    assert not originals & {id(container) for container in _containers(copied)}


def test_what_is_not_json_is_copied_by_deepcopy() -> None:
    import collections
    import copy

    nested: dict[str, Any] = {
        "when": datetime.datetime(2026, 1, 1),
        "pair": (1, [2]),
        "ordered": collections.OrderedDict(a=[1]),
    }
    copied = speed.json_copy(nested)
    assert copied == copy.deepcopy(nested)
    assert type(copied["ordered"]) is collections.OrderedDict and copied["ordered"] is not nested["ordered"]
    assert copied["pair"][1] is not nested["pair"][1]


def test_the_interpreter_and_eventbridge_copy_with_it() -> None:
    from local import patches

    patches.install()
    from moto.events import models
    from moto.stepfunctions.parser.asl.eval import states

    assert states.copy.deepcopy is speed.json_copy
    assert models.copy.deepcopy is speed.json_copy
    assert states.copy.copy is __import__("copy").copy
