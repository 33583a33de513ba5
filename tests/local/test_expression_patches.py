"""local.patches.expressions: condition texts lexed once, reserved words in a set - moto's answers unchanged."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local import patches

patches.install()

from moto.dynamodb.comparisons import ConditionExpressionParser, get_filter_expression  # noqa: E402
from moto.dynamodb.exceptions import ConditionAttributeIsReservedKeyword  # noqa: E402
from moto.dynamodb.models.dynamo_type import Item  # noqa: E402
from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords  # noqa: E402

NAMES = {"#a": "a", "#b": "b", "#v": "version"}
VALUES = {":one": {"N": "1"}, ":two": {"N": "2"}, ":s": {"S": "x"}, ":l": {"L": [{"N": "1"}]}}
paths = st.sampled_from(["a", "b", "#a", "#b", "#v", "c.d", "e[0]", "size(a)", "price_cents"])
operands = paths | st.sampled_from(list(VALUES))
comparisons = st.builds("{} {} {}".format, operands, st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), operands)
functions = st.builds("attribute_exists({})".format, paths) | st.builds("attribute_not_exists({})".format, paths)
functions |= st.builds("begins_with({}, :s)".format, paths) | st.builds("contains({}, :one)".format, paths)
between = st.builds("{} BETWEEN :one AND :two".format, paths)
conditions = st.recursive(
    comparisons | functions | between | st.builds("{} IN (:one, :two)".format, paths),
    lambda inner: (
        st.builds("({})".format, inner)
        | st.builds("NOT {}".format, inner)
        | st.builds("{} {} {}".format, inner, st.sampled_from(["AND", "OR", "and"]), inner)
    ),
    max_leaves=6,
)
garbage = st.text(st.sampled_from(list("ab#:_-.[]()=<> ,0123456789xyz")), max_size=20)


def _moto_lexer() -> Any:
    return ConditionExpressionParser._lex_condition_expression.__wrapped__  # type: ignore[attr-defined]


def _outcome(text: str, item: Item) -> Any:
    try:
        return ("value", get_filter_expression(text, NAMES, VALUES).expr(item))
    except Exception as error:  # what moto says of a bad expression is part of its answer
        return ("error", type(error).__name__, str(error))


def _moto_outcome(text: str, item: Item) -> Any:
    patched = ConditionExpressionParser._lex_condition_expression
    ConditionExpressionParser._lex_condition_expression = _moto_lexer()  # type: ignore[method-assign]
    try:
        return _outcome(text, item)
    finally:
        ConditionExpressionParser._lex_condition_expression = patched  # type: ignore[method-assign]


ITEM = Item(
    hash_key={"S": "k"},
    range_key=None,
    attrs={
        "a": {"S": "xyz"},
        "b": {"N": "2"},
        "version": {"N": "1"},
        "c": {"M": {"d": {"N": "1"}}},
        "e": {"L": [{"N": "1"}]},
    },
)


@settings(max_examples=300, deadline=None)
@given(text=conditions | garbage)
def test_a_condition_reads_and_decides_as_moto_s_own_lexer_makes_it(text: str) -> None:
    assert _outcome(text, ITEM) == _moto_outcome(text, ITEM)
    assert _outcome(text, ITEM) == _moto_outcome(text, ITEM)  # the second time, from the kept tokens


@settings(max_examples=100, deadline=None)
@given(text=conditions)
def test_the_tokens_are_moto_s_and_every_lexing_gets_its_own_nodes(text: str) -> None:
    first = ConditionExpressionParser(text, NAMES, VALUES)._lex_condition_expression()
    second = ConditionExpressionParser(text, NAMES, VALUES)._lex_condition_expression()
    moto = _moto_lexer()(ConditionExpressionParser(text, NAMES, VALUES))
    assert list(first) == list(moto) == list(second)
    assert all(a is not b and a.children is not b.children for a, b in zip(first, second, strict=True))


def test_a_condition_is_lexed_once_per_text() -> None:
    tokens = ConditionExpressionParser._lex_condition_expression.tokens  # type: ignore[attr-defined]
    text = "attribute_exists(a) AND #v < :two AND b = :two"
    get_filter_expression(text, NAMES, VALUES)
    hits = tokens.cache_info().hits
    assert get_filter_expression(text, NAMES, VALUES).expr(ITEM) is True
    assert tokens.cache_info().hits == hits + 1


def test_a_bad_text_is_refused_every_time_and_never_kept() -> None:
    tokens = ConditionExpressionParser._lex_condition_expression.tokens  # type: ignore[attr-defined]
    kept = tokens.cache_info().currsize
    for _ in range(2):
        with pytest.raises(ValueError, match="Cannot parse condition starting at"):
            get_filter_expression("a = :one ; drop", NAMES, VALUES)
    assert tokens.cache_info().currsize == kept


def test_reserved_words_are_moto_s_list_and_still_refused() -> None:
    words = ReservedKeywords.get_reserved_keywords()
    assert list(words) == ReservedKeywords._get_reserved_keywords()
    assert isinstance(words, list) and len(words) == 573
    assert "NAME" in words and "name" not in words and "ORDER_ID" not in words
    with pytest.raises(ConditionAttributeIsReservedKeyword):
        get_filter_expression("name = :s", NAMES, VALUES)
    assert get_filter_expression("#a = :s", NAMES, VALUES).expr(ITEM) is False
    assert get_filter_expression("b >= :one", NAMES, VALUES).expr(ITEM) is True
    assert Decimal(ITEM.attrs["b"].value) == 2


UPDATE_NAMES = {"#a": "a", "#n": "n", "#l": "l", "#m": "m"}
UPDATE_VALUES = {":s": {"S": "x"}, ":one": {"N": "1"}, ":list": {"L": [{"N": "2"}]}, ":set": {"SS": ["p", "q"]}}
set_actions = st.sampled_from(
    [
        "#a = :s",
        "#n = #n + :one",
        "#n = if_not_exists(#n, :one) + :one",
        "#l = list_append(if_not_exists(#l, :list), :list)",
        "#m.k = :s",
        "b = :one",
    ]
)
update_texts = st.builds(
    lambda sets, remove, add: (
        " ".join(
            part
            for part in (
                f"SET {', '.join(dict.fromkeys(sets))}" if sets else "",
                "REMOVE c" if remove else "",
                "ADD #t :set" if add else "",
            )
            if part
        )
        or "SET #a = :s"
    ),
    st.lists(set_actions, max_size=3),
    st.booleans(),
    st.booleans(),
) | st.text(st.sampled_from(list("SETREMOVADab#:=+, ()")), max_size=18)


def _tree(node: Any) -> Any:
    """A parsed update expression as plain data (type, then children or value), parents left out."""
    children = getattr(node, "children", None)
    if children is None:
        return repr(node)
    return (type(node).__name__, [_tree(child) for child in children])


@pytest.fixture
def dynamodb(cloud: Any) -> Any:
    """The session's local cloud (mock_aws here would reset the moto state it shares)."""
    return cloud.client("dynamodb")


def _update_outcomes(client: Any, texts: list[str]) -> list[Any]:
    """Each text applied in turn to one item of a new table: the items after, or the errors."""
    table = f"t{uuid.uuid4().hex}"
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=table, Item={"k": {"S": "1"}, "n": {"N": "5"}, "m": {"M": {}}, "c": {"S": "old"}})
    outcomes = []
    for text in texts:
        names = {k: v for k, v in {**UPDATE_NAMES, "#t": "t"}.items() if k in text}
        values = {k: v for k, v in UPDATE_VALUES.items() if k in text}
        request: dict[str, Any] = {"TableName": table, "Key": {"k": {"S": "1"}}, "UpdateExpression": text}
        request.update({"ExpressionAttributeNames": names} if names else {})
        request.update({"ExpressionAttributeValues": values} if values else {})
        try:
            outcomes.append(client.update_item(**request, ReturnValues="ALL_NEW")["Attributes"])
        except Exception as error:
            outcomes.append((type(error).__name__, str(error)))
    outcomes.append(client.get_item(TableName=table, Key={"k": {"S": "1"}})["Item"])
    client.delete_table(TableName=table)
    return outcomes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(update_texts, min_size=1, max_size=4))
def test_updates_apply_and_fail_as_with_moto_s_own_parser(dynamodb: Any, texts: list[str]) -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    kept = UpdateExpressionParser.make
    mine = _update_outcomes(dynamodb, texts)
    UpdateExpressionParser.make = classmethod(kept.__func__.__wrapped__)  # type: ignore[method-assign]
    try:
        moto = _update_outcomes(dynamodb, texts)
    finally:
        UpdateExpressionParser.make = kept  # type: ignore[method-assign]
    assert mine == moto


def test_a_kept_update_tree_is_shared_and_never_changed_by_the_updates_that_use_it(dynamodb: Any) -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    text = "SET #n = if_not_exists(#n, :one) + :one, #a = :s REMOVE c"
    tree = UpdateExpressionParser.make(text)
    before = _tree(tree)
    _update_outcomes(dynamodb, [text, text])
    assert UpdateExpressionParser.make(text) is tree
    assert _tree(tree) == before


scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=8)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-(10**6), 10**6)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda ss: {"SS": sorted(ss)}, st.sets(st.text(min_size=1, max_size=4), min_size=1, max_size=3)),
)
attribute_values = st.recursive(
    scalars,
    lambda inner: (
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3))
        | st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=5), inner, max_size=3))
    ),
    max_leaves=8,
)
big_strings = st.builds(lambda n: {"S": "x" * n}, st.integers(90_000, 210_000))


def _built(init: Any, attrs: dict[str, Any]) -> Any:
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    item = Item.__new__(Item)
    try:
        init(item, DynamoType({"S": "k"}), None, attrs)
    except Exception as error:
        return ("error", type(error).__name__)
    return ("item", type(item.attrs).__name__, item.to_json(), item.size())


@settings(max_examples=150, deadline=None)
@given(attrs=st.dictionaries(st.text(min_size=1, max_size=6), attribute_values | big_strings, max_size=6))
def test_an_item_is_built_and_its_size_limit_kept_as_moto_does(attrs: dict[str, Any]) -> None:
    from moto.dynamodb.models.dynamo_type import Item

    assert _built(Item.__init__, attrs) == _built(Item.__init__.__wrapped__, attrs)  # type: ignore[attr-defined]


def test_an_item_over_the_limit_is_refused_and_one_under_it_kept_and_still_checked() -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    over = {"a": {"S": "x" * 200_000}, "b": {"S": "y" * 200_000}, "c": {"S": "z" * 10_000}}
    assert _built(Item.__init__, over) == ("error", "ItemSizeTooLarge")
    for size in (404_997, 404_998):  # moto's limit: 405,000 bytes, names included
        edge = {"b": {"N": "1"}, "a": {"S": "x" * size}}
        assert _built(Item.__init__, edge) == _built(Item.__init__.__wrapped__, edge)  # type: ignore[attr-defined]
    assert _built(Item.__init__, {"b": {"N": "1"}, "a": {"S": "x" * 404_997}})[0] == "item"
    assert _built(Item.__init__, {"b": {"N": "1"}, "a": {"S": "x" * 404_998}})[0] == "error"
    item = Item(DynamoType({"S": "k"}), None, {"a": {"S": "x" * 200_000}, "b": {"N": "1"}})
    with pytest.raises(ItemSizeTooLarge):  # the attributes still check what goes in later
        item.attrs["c"] = DynamoType({"S": "z" * 210_000})


event_values = st.one_of(st.integers(0, 3), st.sampled_from(["a", "b", "1.0.0.1"]), st.booleans(), st.none())
events = st.fixed_dictionaries(
    {
        "source": st.sampled_from(["orderflow.orders", "orderflow.payments"]),
        "detail-type": st.sampled_from(["OrderPlaced", "PaymentFailed"]),
        "detail": st.dictionaries(
            st.sampled_from(["x", "y", "z"]),
            event_values | st.lists(event_values, max_size=2) | st.dictionaries(st.sampled_from(["k"]), event_values),
            max_size=3,
        ),
    }
)
filters = st.lists(
    event_values
    | st.sampled_from(
        [{"exists": True}, {"exists": False}, {"prefix": "a"}, {"numeric": [">", 1]}, {"anything-but": "a"}]
    ),
    min_size=1,
    max_size=2,
)
patterns = st.fixed_dictionaries(
    {},
    optional={
        "source": st.lists(st.sampled_from(["orderflow.orders", "orderflow.payments"]), min_size=1, max_size=2),
        "detail": st.dictionaries(
            st.sampled_from(["x", "y", "z"]), filters | st.fixed_dictionaries({"k": filters}), max_size=2
        ),
    },
)


@settings(max_examples=200, deadline=None)
@given(event=events, pattern_list=st.lists(patterns, min_size=1, max_size=4))
def test_an_event_meets_every_rule_as_moto_matches_it(
    event: dict[str, Any], pattern_list: list[dict[str, Any]]
) -> None:
    import json

    from moto.events.models import EventPattern

    moto_matches = EventPattern.matches_event.__wrapped__  # type: ignore[attr-defined]
    for pattern in pattern_list:
        rule_pattern = EventPattern(json.dumps(pattern), pattern)
        assert rule_pattern.matches_event(event) == moto_matches(rule_pattern, event)
    assert EventPattern(None, {}).matches_event(event) is True
