"""The browser's protocol constants are generated from gateway/protocol/ and checked in: they must not drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.protocol import js, limits, states
from gateway.protocol.codes import ErrorCode
from gateway.protocol.server import ServerFrame


def test_the_checked_in_protocol_js_is_what_the_generator_writes() -> None:
    checked_in = js.TARGET.read_text(encoding="utf-8") if js.TARGET.exists() else "(missing)"
    assert checked_in == js.render(), f"webclient/static/shared/protocol.js is out of date: run `{js.COMMAND}`"


def test_limits_and_enums_come_out_as_frozen_es_exports_with_python_names() -> None:
    text = js.render()
    assert f"export const MAX_TEXT_CHARS = {limits.MAX_TEXT_CHARS};" in text
    assert 'export const DTMF_KEYS = "0123456789*#ABCD";' in text
    assert "  SESSION_REVOKED: 4401,\n" in text
    assert (
        'export const ConversationState = Object.freeze({\n  OPEN: "open",\n  QUEUED: "queued",\n'
        '  ASSIGNED: "assigned",\n  CLOSED: "closed",\n});'
    ) in text
    exported = re.findall(r"^export const (\w+) = ", text, re.MULTILINE)
    assert len(exported) == len(set(exported))
    for enum in (states.CallStatus, states.CallbackState, ErrorCode, ServerFrame):
        assert enum.__name__ in exported
        for member in enum:
            assert f'  {member.name}: "{member.value}",' in text


def test_check_mode_fails_on_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "shared" / "protocol.js"
    assert js.main(["js", "--check"], stale) == 1  # missing
    stale.parent.mkdir()
    stale.write_text("export const MAX_TEXT_CHARS = 1;\n", encoding="utf-8")
    assert js.main(["js", "--check"], stale) == 1
    assert js.COMMAND in capsys.readouterr().err
    assert js.main(["js"], stale) == 0
    assert js.main(["js", "--check"], stale) == 0
    assert stale.read_text(encoding="utf-8") == js.render()
