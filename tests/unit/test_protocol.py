import json

import pytest

from gateway import protocol
from gateway.errors import BadRequest
from gateway.protocol import AgentStatus, CloseConversation, Hello, SendMessage, SetStatus, Typing


@pytest.mark.parametrize("obj, role, expected", [
    ({"type": "hello", "token": None}, "customer", Hello(token=None)),
    ({"type": "hello", "token": "t", "last_event_id": "5-0", "context": {"page": "/x"}}, "customer",
     Hello(token="t", last_event_id="5-0", context={"page": "/x"})),
    ({"type": "message", "client_id": "m1", "text": "hi"}, "customer", SendMessage("m1", "hi")),
    ({"type": "message", "client_id": "m1", "text": "hi", "conversation_id": "c1"}, "agent",
     SendMessage("m1", "hi", "c1")),
    ({"type": "typing", "active": True, "draft": ""}, "customer", Typing(True, "")),
    ({"type": "status", "status": "away"}, "agent", SetStatus(AgentStatus.AWAY)),
    ({"type": "close", "conversation_id": "c1", "disposition": "resolved"}, "agent",
     CloseConversation("c1", "resolved")),
])
def test_valid_frames(obj, role, expected) -> None:  # type: ignore[no-untyped-def]
    assert protocol.parse(obj, role=role) == expected


@pytest.mark.parametrize("obj, role, code, field", [
    ({}, "customer", "missing_field", "type"),
    ({"type": 7}, "customer", "missing_field", "type"),
    ({"type": "launch_missiles"}, "customer", "unknown_type", "type"),
    ({"type": "close", "conversation_id": "c", "disposition": "x"}, "customer", "unknown_type", "type"),
    ({"type": "status", "status": "on_fire"}, "agent", "bad_field", "status"),
    ({"type": "message", "text": "hi"}, "customer", "missing_field", "client_id"),
    ({"type": "message", "client_id": "m", "text": "   "}, "customer", "bad_field", "text"),
    ({"type": "message", "client_id": "m", "text": 5}, "customer", "bad_field", "text"),
    ({"type": "message", "client_id": "m", "text": "x" * 4001}, "customer", "bad_field", "text"),
    ({"type": "message", "client_id": "m", "text": "hi"}, "agent", "missing_field", "conversation_id"),
    ({"type": "typing", "active": "yes"}, "customer", "bad_field", "active"),
    ({"type": "hello", "last_event_id": "yesterday"}, "customer", "bad_field", "last_event_id"),
    ({"type": "hello", "context": {"page": 3}}, "customer", "bad_field", "context.page"),
    ({"type": "hello", "context": {str(i): "v" for i in range(21)}}, "customer", "bad_field", "context"),
])
def test_invalid_frames_name_the_field(obj, role, code, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequest) as info:
        protocol.parse(obj, role=role)
    assert (info.value.code, info.value.field) == (code, field)


def test_decode_limits_and_json() -> None:
    with pytest.raises(BadRequest) as info:
        protocol.decode(json.dumps({"type": "message", "text": "x" * 17000}))
    assert info.value.code == "frame_too_large"
    with pytest.raises(BadRequest) as info:
        protocol.decode("{nope")
    assert info.value.code == "bad_json"
    with pytest.raises(BadRequest) as info:
        protocol.decode("[1, 2]")
    assert info.value.code == "bad_json"
    with pytest.raises(BadRequest) as info:
        protocol.decode(b"\xff\xfe")
    assert info.value.code == "bad_json"


def test_event_ids_compare_in_stream_order() -> None:
    ids = ["10-2", "9-5", "10-10", "10-0"]
    assert sorted(ids, key=protocol.parse_event_id) == ["9-5", "10-0", "10-2", "10-10"]
    assert protocol.parse_event_id("abc") is None
