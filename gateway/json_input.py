"""Untrusted JSON in: size and nesting limits before the parser, strict JSON, strings that are real text.

Every JSON object a client sends (a WebSocket frame, an HTTP body) goes through
:func:`loads_object`; every string field taken from it through
:func:`check_text`. What they guarantee to the rest of the gateway:

* the parser never sees more than the size limit, nor nesting deeper than
  :data:`MAX_DEPTH` (a cheap scan of the raw text, brackets inside strings
  ignored, refuses it first: Python's parser recurses and a few thousand
  levels end in RecursionError);
* bytes are UTF-8; ``NaN`` / ``Infinity`` are refused (they are not JSON), and so is a number too large for a
  float (``1e999`` would read as infinity);
* a string field holds text that can be stored and sent anywhere: no lone
  UTF-16 surrogate (``"\\ud800"`` is valid JSON but encodes to nothing) and no
  control character; text fields (messages, drafts, SDP) may keep
  newline, carriage return and tab, identifiers may not.

Failures are :class:`~gateway.errors.BadRequest` (``bad_json``,
``frame_too_large``, ``bad_field``) naming the limit or the field.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

from gateway.errors import BadRequest, FrameTooLarge
from gateway.protocol.codes import ErrorCode

MAX_DEPTH = 32

# a JSON string (escapes included); what is inside one does not count as nesting
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_OPENERS_PAST_LIMIT = re.compile(r"[\[{]{" + str(MAX_DEPTH + 1) + "}")
# lone surrogates and C0 / DEL / C1 controls; text may keep \t \n \r, identifiers nothing of it
_BAD_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_IN_ID = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (brackets inside strings ignored); no parsing."""
    return _depth(_brackets(text))


def _brackets(text: str) -> str:
    return _NOT_BRACKET.sub("", _STRING.sub("", text))


def _depth(brackets: str) -> int:
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def too_deep(text: str) -> bool:
    """True when ``text`` nests past :data:`MAX_DEPTH`; most text is answered without counting."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False  # too few opening brackets to nest past the limit
    brackets = _brackets(text)
    return _OPENERS_PAST_LIMIT.search(brackets) is not None or _depth(brackets) > MAX_DEPTH


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"the number {text[:24]}{'...' if len(text) > 24 else ''} is too large")
    return value


# what ``json.loads(raw, parse_constant=..., parse_float=...)`` builds on every call (a decoder and its scanner),
# built once; numbers with a fraction or an exponent only go through ``_finite``
_DECODER = json.JSONDecoder(parse_constant=_no_constants, parse_float=_finite)


def loads_object(raw: str | bytes, *, what: str = "frame", max_bytes: int) -> dict[str, Any]:
    """Raw client input -> a JSON object, or BadRequest (``frame_too_large`` / ``bad_json``) saying why."""
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise FrameTooLarge(f"{what} is {size} bytes; the limit is {max_bytes}")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(
                f"{what} is not UTF-8 text: {exc.reason} at byte {exc.start}", code=ErrorCode.BAD_JSON
            ) from None
    if too_deep(raw):
        raise BadRequest(
            f"{what} nests more than {MAX_DEPTH} levels deep; the limit is {MAX_DEPTH}", code=ErrorCode.BAD_JSON
        )
    try:
        if raw.startswith("\ufeff"):  # as json.loads refuses it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", raw, 0)
        obj = _DECODER.decode(raw)
    except ValueError as exc:  # JSONDecodeError, NaN / Infinity / 1e999, integers over Python's digit limit
        raise BadRequest(f"{what} is not valid JSON: {_printable(str(exc))}", code=ErrorCode.BAD_JSON) from None
    if not isinstance(obj, dict):
        raise BadRequest(f"{what} must be a JSON object", code=ErrorCode.BAD_JSON)
    return obj


def check_text(value: str, name: str, *, multiline: bool) -> str:
    """``value`` if it is real text (``multiline``: newlines and tabs allowed), else BadRequest naming ``name``."""
    bad = (_BAD_IN_TEXT if multiline else _BAD_IN_ID).search(value)
    if bad is not None:
        char = bad.group()
        what = "a lone UTF-16 surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
        raise BadRequest(
            f"'{_printable(name)}' holds {what} ({char!a}) at position {bad.start()}",
            field=_printable(name),
            code=ErrorCode.BAD_FIELD,
        )
    return value


#: The bidirectional embedding, override and isolate controls (LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI): in a
#: message they turn what follows around ("IBAN DE89 3704 \u202e0040 4405 32" read as "... 23 5044 0400", a link
#: to "receipt\u202efdp.exe" shown as "receiptexe.pdf"). The marks (LRM, RLM, ALM) that right-to-left writing
#: uses stay; the page isolates each message in its own direction anyway.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def without_bidi_controls(value: str) -> str:
    """``value`` without bidirectional embedding, override and isolate controls (:data:`_BIDI_CONTROLS`)."""
    return _BIDI_CONTROLS.sub("", value)


def is_clean(value: str) -> bool:
    """True when ``value`` could be an identifier (no surrogate, no control character)."""
    return _BAD_IN_ID.search(value) is None


def _printable(text: str) -> str:
    """``text`` as it may appear in an error message and a log line (client junk escaped)."""
    return text if is_clean(text) else ascii(text)[1:-1]


printable = _printable  # the other modules' way to the same rule (a client's key echoed in an error message)
