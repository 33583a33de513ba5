"""HTTP header blocks parsed without the email package, with the same result.

Every HTTP message the runner's process reads - the requests moto's server answers, the answers
its own AWS clients (the Step Functions interpreter's, the pollers') receive - has its header
block parsed by `http.client.parse_headers`, which hands the block to the email package's
feed parser: about 50 microseconds for a botocore request's ten headers, a tenth of what moto
spends answering a GetItem.

`parse_headers` here reads the block the same way (the same line and count limits, the same
exceptions) and builds the same `HTTPMessage` directly when every line is a plain `Name: value`
line. Anything else - a folded continuation line, a line without a colon, a name outside the
characters the feed parser accepts, a stray carriage return, a block cut short - goes to the
standard parser, so the message is the one the standard library builds in every case
(property-tested against it in tests/local/test_wire.py).

Installed in the local cloud's process only; the functions' worker processes keep the standard
library as Lambda runs it.
"""

from __future__ import annotations

import email.parser
import http.client
import re
import threading
from typing import Any, BinaryIO

STANDARD_PARSE_HEADERS = http.client.parse_headers
_BLOCK_END = (b"\r\n", b"\n", b"")
# A header name as the feed parser reads one (email.feedparser.headerRE without its other cases).
_PLAIN_LINE = re.compile(r"([\041-\071\073-\176]+):([^\r\n]*)\r?\n\Z")
_install_lock = threading.Lock()


def _read_lines(fp: BinaryIO) -> list[bytes]:
    """http.client's own reading of a header block: the same limits, the same exceptions."""
    max_line = getattr(http.client, "_MAXLINE", 65536)
    max_headers = getattr(http.client, "_MAXHEADERS", 100)
    lines = []
    while True:
        line = fp.readline(max_line + 1)
        if len(line) > max_line:
            raise http.client.LineTooLong("header line")
        lines.append(line)
        if len(lines) > max_headers:
            raise http.client.HTTPException(f"got more than {max_headers} headers")
        if line in _BLOCK_END:
            return lines


def parse_headers(fp: BinaryIO, _class: Any = http.client.HTTPMessage) -> Any:
    """`http.client.parse_headers`, building the message directly for plain `Name: value` lines."""
    lines = _read_lines(fp)
    pairs = []
    for line in lines[:-1]:
        plain = _PLAIN_LINE.match(line.decode("iso-8859-1"))
        if plain is None:
            return email.parser.Parser(_class=_class).parsestr(b"".join(lines).decode("iso-8859-1"))
        pairs.append((plain[1], plain[2].lstrip(" \t")))
    message = _class()
    for name, value in pairs:
        message.set_raw(name, value)
    message.set_payload("")
    return message


def install() -> None:
    """Make `http.client.parse_headers` (http.server's and http.client's) this one; idempotent."""
    with _install_lock:
        http.client.parse_headers = parse_headers  # type: ignore[assignment]
