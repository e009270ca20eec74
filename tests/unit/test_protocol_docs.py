"""docs/protocol.md and gateway/protocol/ say the same: every frame type both ways, every timeline event type and
every error code is documented, and nothing is documented that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.protocol.client import ClientFrame
from gateway.protocol.codes import NEVER_SENT, ErrorCode
from gateway.protocol.server import CloseCode, ServerFrame
from gateway.protocol.states import EventType

DOC = Path(__file__).parents[2] / "docs" / "protocol.md"

# "Client -> server:", "Agent -> server:", "Transfers and supervisors (agent -> server):", "Server -> agent:" ...
_BLOCK = re.compile(
    r"^.*\b(?P<from>client|customer|agent|server) -> (?P<to>server|client|customer|agent)\)?:$", re.IGNORECASE
)
_FRAME = re.compile(r'\{"type": "(\w+)"')


def frame_types(text: str) -> tuple[set[str], set[str]]:
    """Frame types written as ``{"type": "..."`` in the doc's "X -> server:" and "server -> X:" lists (a list
    ends at a blank line): (sent by clients, sent by the server)."""
    from_client: set[str] = set()
    from_server: set[str] = set()
    into: set[str] | None = None
    for line in text.splitlines():
        if match := _BLOCK.match(line):
            into = from_server if match["from"].lower() == "server" else from_client
        elif not line.strip():
            into = None
        if into is not None:
            into.update(_FRAME.findall(line))
    return from_client, from_server


def section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def first_column(table: str) -> set[str]:
    """The backticked names in the first column of a markdown table's rows."""
    return {
        name
        for row in table.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`(\w+)`", row.split("|")[1])
    }


def test_every_frame_type_is_documented_in_its_direction_and_nothing_else() -> None:
    from_client, from_server = frame_types(DOC.read_text(encoding="utf-8"))
    assert sorted(from_client) == sorted(ClientFrame)
    assert sorted(from_server) == sorted(ServerFrame)


def test_every_error_code_the_gateway_sends_is_documented_and_nothing_else() -> None:
    documented = first_column(section(DOC.read_text(encoding="utf-8"), "Error codes"))
    assert sorted(documented) == sorted(set(ErrorCode) - NEVER_SENT)


def test_every_close_code_is_documented_and_nothing_else() -> None:
    text = DOC.read_text(encoding="utf-8")
    paragraph = text[text.index("Close codes the gateway uses:") : text.index("## HTTP")]
    assert sorted(int(code) for code in re.findall(r"\b(\d{4})\b", paragraph)) == sorted(CloseCode)


def test_every_timeline_event_type_is_documented_and_nothing_else() -> None:
    shapes = section(DOC.read_text(encoding="utf-8"), "Shapes")
    table = shapes[shapes.index("| type | fields |") : shapes.index("**Conversation summary**")]
    assert sorted(first_column(table)) == sorted(EventType)


def test_the_checks_read_what_they_should() -> None:
    text = (
        'Client -> server:\n- `{"type": "hello"}`\n- `{"type": "dtmf"}`\n\n{"type": "stray"}\n'
        'Transfers (agent -> server):\n- `{"type": "call_hold"}`\n\nServer -> agent:\n- `{"type": "welcome"}`\n'
    )
    assert frame_types(text) == ({"hello", "dtmf", "call_hold"}, {"welcome"})
    assert first_column("| code | when |\n|---|---|\n| `a` / `b` | `c` |\n| x | `d` |\n") == {"a", "b"}
