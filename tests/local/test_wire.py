"""local.patches.wire: header blocks parsed without the email package, exactly as http.client parses them."""

from __future__ import annotations

import http.client
import io
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from local.patches import wire

NAME_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=":")
VALUE_CHARS = st.characters(min_codepoint=0, max_codepoint=0xFF)  # what iso-8859-1 decodes to
NEWLINES = st.sampled_from(["\r\n", "\n"])


@st.composite
def header_lines(draw: Any) -> str:
    kind = draw(st.sampled_from(["plain", "plain", "plain", "folded", "no colon", "odd name", "from", "raw"]))
    value = draw(st.text(VALUE_CHARS, max_size=12))
    end = draw(NEWLINES)
    if kind == "plain":
        name = draw(st.text(NAME_CHARS, min_size=1, max_size=10))
        spaces = draw(st.sampled_from(["", " ", "  ", "\t", " \t"]))
        return f"{name}:{spaces}{value.replace(chr(13), '').replace(chr(10), '')}{end}"
    if kind == "folded":
        return f"{draw(st.sampled_from([' ', chr(9)]))}{value.replace(chr(10), '')}{end}"
    if kind == "no colon":
        return f"{draw(st.text(NAME_CHARS, min_size=1, max_size=8))}{end}"
    if kind == "odd name":
        return f"{draw(st.text(VALUE_CHARS, max_size=6)).replace(chr(10), '')}:{value.replace(chr(10), '')}{end}"
    if kind == "from":
        return f"From {value.replace(chr(10), '')}{end}"
    return f"{value.replace(chr(10), '')}{end}"


def _block(lines: list[str], ending: str) -> bytes:
    return ("".join(lines) + ending).encode("iso-8859-1")


def _described(message: http.client.HTTPMessage) -> dict[str, Any]:
    """Everything a message holds, with its defects (exception instances) as type and text."""
    state = dict(vars(message))
    state["defects"] = [(type(d).__name__, str(d)) for d in state["defects"]]
    state["items"] = message.items()
    return state


def _parsed_both_ways(block: bytes) -> tuple[Any, Any, bytes, bytes]:
    standard_fp, fast_fp = io.BytesIO(block), io.BytesIO(block)
    standard = wire.STANDARD_PARSE_HEADERS(standard_fp)
    fast = wire.parse_headers(fast_fp)
    return standard, fast, standard_fp.read(), fast_fp.read()


@settings(max_examples=400, deadline=None)
@given(st.lists(header_lines(), max_size=8), st.sampled_from(["\r\n", "\n", "", '\r\n{"body": 1}']))
@example(["Host: x\r\n", "Content-Length: 2\r\n"], "\r\n{}")
@example(["X-A: a\r\n", " continued\r\n"], "\r\n")
@example(["X-A: a\rb\r\n"], "\r\n")
@example([":empty name\r\n"], "\r\n")
@example(["X-A:\r\n"], "\r\n")
@example([], "\r\n")
@example(["X-A: a\r\n", "X-B: b"], "")
@example(["From nobody\r\n", "X-A: a\r\n"], "\r\n")
def test_the_same_message_and_the_same_bytes_left_as_http_client(lines: list[str], ending: str) -> None:
    standard, fast, standard_rest, fast_rest = _parsed_both_ways(_block(lines, ending))
    assert type(fast) is type(standard)
    assert _described(fast) == _described(standard)
    assert fast_rest == standard_rest  # the body starts where it would have


def test_a_botocore_request_block_takes_the_direct_path() -> None:
    block = (
        b"Host: 127.0.0.1:4566\r\nX-Amz-Target: DynamoDB_20120810.PutItem\r\n"
        b"Content-Type: application/x-amz-json-1.0\r\nAuthorization: AWS4-HMAC-SHA256 Credential=x/1/r/dynamodb/"
        b"aws4_request, SignedHeaders=host, Signature=ab\r\nContent-Length: 2\r\n\r\n{}"
    )
    fast = wire.parse_headers(io.BytesIO(block))
    assert fast.get("x-amz-target") == "DynamoDB_20120810.PutItem"
    assert fast.get_all("Content-Length") == ["2"]
    assert _described(fast) == _described(wire.STANDARD_PARSE_HEADERS(io.BytesIO(block)))


def test_an_over_long_line_and_too_many_headers_raise_as_http_client_does() -> None:
    too_long = b"X-A: " + b"a" * 70000 + b"\r\n\r\n"
    too_many = b"".join(b"X-%d: v\r\n" % i for i in range(101)) + b"\r\n"
    for block, error in ((too_long, http.client.LineTooLong), (too_many, http.client.HTTPException)):
        with pytest.raises(error) as standard:
            wire.STANDARD_PARSE_HEADERS(io.BytesIO(block))
        with pytest.raises(error) as fast:
            wire.parse_headers(io.BytesIO(block))
        assert str(fast.value) == str(standard.value)


def test_installed_in_the_local_cloud_process(cloud: Any) -> None:
    """The local cloud's moto server and its own clients parse with it, and still answer."""
    assert http.client.parse_headers is wire.parse_headers
    tables = cloud.client("dynamodb").list_tables()["TableNames"]
    assert tables
