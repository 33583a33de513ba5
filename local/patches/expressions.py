"""DynamoDB condition and update expressions read once per text, reserved words looked up in a set,
items sized once.

moto parses a request's ConditionExpression two or three times (the request's validation, the
condition check, TransactWriteItems' own check), and every parse starts by lexing the text with
six regular expressions tried at every position: about a third of the parse, and a tenth of a
conditional write's CPU. The tokens depend on the text alone, so they are kept per text
(`lexed`); each parse gets fresh nodes, so nothing a parse builds is shared with another.

An UpdateExpression is parsed twice per UpdateItem (the request's validation, then the update)
and twice per transaction's Update: tokenizing and parsing were a quarter of an UpdateItem's CPU.
The tree moto builds is only read after that - by `find_clauses`, and by the validator, which
works on its own deep copy of it and is what the update executes - so one tree per text is
kept (`UpdateExpressionParser.make`) and shared.

Every attribute name in an expression is also checked against DynamoDB's 573 reserved words
by a scan of moto's list; the list stays (same contents, same order) and answers `in` from a
set of the same words.

An item moto builds (every PutItem, every transaction's Put) checks DynamoDB's size limit as each
attribute goes in by re-measuring every attribute already there: quadratic in the attributes,
and a seventh of a PutItem of the app's items. Attributes only add to the size as an item is
built, so the running total is kept instead: the same limit, raised at the same attribute.

All are checked against moto's own code in tests/local/test_expression_patches.py.
"""

from __future__ import annotations

import functools
from collections import deque
from typing import Any

LEXED_TEXTS = 2048  # distinct condition / update texts kept; an application has a few dozen


class _WordList(list[str]):
    """moto's reserved-word list, answering `in` from a set of the same (immutable) words."""

    def __init__(self, words: list[str]) -> None:
        super().__init__(words)
        self._set = frozenset(words)

    def __contains__(self, word: object) -> bool:
        return word in self._set


def patch() -> None:
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.parsing.reserved_keywords import ReservedKeywords

    keywords = ReservedKeywords.get_reserved_keywords()
    if not isinstance(keywords, _WordList):
        ReservedKeywords.KEYWORDS = _WordList(keywords)

    original_lex = ConditionExpressionParser._lex_condition_expression
    if hasattr(original_lex, "tokens"):  # already patched
        return
    node = ConditionExpressionParser.Node

    @functools.lru_cache(maxsize=LEXED_TEXTS)
    def tokens(text: str) -> tuple[tuple[Any, Any, Any, Any], ...]:
        parser = ConditionExpressionParser(text, None, None)
        return tuple((n.nonterminal, n.kind, n.text, n.value) for n in original_lex(parser))

    @functools.wraps(original_lex)
    def lexed(self: Any) -> deque[Any]:
        text = self.condition_expression
        if not isinstance(text, str):
            return original_lex(self)
        return deque(
            node(nonterminal=nonterminal, kind=kind, text=token_text, value=value, children=[])
            for nonterminal, kind, token_text, value in tokens(text)
        )

    lexed.tokens = tokens  # type: ignore[attr-defined]
    ConditionExpressionParser._lex_condition_expression = lexed  # type: ignore[method-assign]
    _parse_update_expressions_once()
    _size_items_once()


ITEM_SIZE_LIMIT = 405000  # moto's LimitedSizeDict's (DynamoDB's 400 KB, as moto measured it)


def _size_items_once() -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    original_init = Item.__init__

    @functools.wraps(original_init)
    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        if type(attrs) is not dict or not all(type(key) is str for key in attrs):
            return original_init(self, hash_key, range_key, attrs)
        self.hash_key = hash_key
        self.range_key = range_key
        converted: dict[str, Any] = {}
        size = 0
        for key, value in attrs.items():
            converted[key] = attribute = DynamoType(value)
            size += bytesize(key) + attribute.size()
            if size > ITEM_SIZE_LIMIT:
                raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict()
        dict.update(self.attrs, converted)  # checked above, as LimitedSizeDict checks each one

    __init__.sized_once = True  # type: ignore[attr-defined]
    if not getattr(original_init, "sized_once", False):
        Item.__init__ = __init__  # type: ignore[method-assign]


def _parse_update_expressions_once() -> None:
    import importlib

    # moto's parsing modules are untyped (`# type: ignore` at their top)
    UpdateExpressionParser: Any = importlib.import_module("moto.dynamodb.parsing.expressions").UpdateExpressionParser
    original_make = UpdateExpressionParser.make.__func__

    @functools.lru_cache(maxsize=LEXED_TEXTS)
    def parsed(text: str) -> Any:
        return original_make(UpdateExpressionParser, text)

    @functools.wraps(original_make)
    def make(cls: Any, expression_str: Any) -> Any:
        if cls is not UpdateExpressionParser or not isinstance(expression_str, str):
            return original_make(cls, expression_str)
        return parsed(expression_str)

    make.parsed = parsed  # type: ignore[attr-defined]
    UpdateExpressionParser.make = classmethod(make)
