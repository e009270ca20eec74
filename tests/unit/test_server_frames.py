"""Server frames leave as the JSON docs/protocol.md describes: type first, optional fields only when set."""

from __future__ import annotations

import json

from gateway.errors import TooManyRequests
from gateway.protocol import server
from gateway.protocol.codes import ErrorCode
from gateway.protocol.server import ServerFrame
from gateway.protocol.states import CallStatus


def test_a_code_from_another_node_is_one_of_ours_or_error() -> None:
    assert [ErrorCode.of(v) for v in ("not_found", "made_up", None, 7)] == [
        ErrorCode.NOT_FOUND,
        ErrorCode.ERROR,
        ErrorCode.ERROR,
        ErrorCode.ERROR,
    ]


def test_every_server_frame_type_has_a_frame_class() -> None:
    classes = [
        c
        for c in vars(server).values()
        if isinstance(c, type) and issubclass(c, server.Frame) and c is not server.Frame
    ]
    assert sorted({c.type for c in classes}) == sorted(ServerFrame)


def test_frames_as_json() -> None:
    frames = [
        server.Ack("m-1", "1-0", "c1"),
        server.CallAnswer("call-1", "v=0", conversation_id="c1"),
        server.CallAnswer("call-1", "v=0"),
        server.CallStatusFrame("call-1", CallStatus.ENDED, "lines_busy", message="busy"),
        server.CallStatusFrame(
            "call-1", CallStatus.RINGING, "", conversation_id="c1", agent_id="a1", agent_name="", ring_seconds=20
        ),
        server.CustomerWelcome("t", "u_1", None, [], None, [], None, hours_open=False, widget={"title": "Hi"}),
        server.Error(TooManyRequests("slow down", retry_after=3), client_id="m-1"),
        server.Error(TooManyRequests("slow down", code=ErrorCode.TIMELINE_FULL), call_id=""),
    ]
    assert [json.loads(json.dumps(f.as_dict())) for f in frames] == [
        {"type": "ack", "client_id": "m-1", "event_id": "1-0", "conversation_id": "c1"},
        {"type": "call_answer", "call_id": "call-1", "sdp": "v=0", "conversation_id": "c1"},
        {"type": "call_answer", "call_id": "call-1", "sdp": "v=0"},
        {"type": "call_status", "call_id": "call-1", "status": "ended", "reason": "lines_busy", "message": "busy"},
        {
            "type": "call_status",
            "call_id": "call-1",
            "status": "ringing",
            "reason": "",
            "conversation_id": "c1",
            "agent_id": "a1",
            "agent_name": "",
            "ring_seconds": 20,
        },
        {
            "type": "welcome",
            "token": "t",
            "customer_id": "u_1",
            "conversation": None,
            "events": [],
            "queue_position": None,
            "calls": [],
            "callback": None,
            "hours_open": False,
            "widget": {"title": "Hi"},
        },
        {"type": "error", "code": "rate_limited", "message": "slow down", "retry_after": 3, "client_id": "m-1"},
        {"type": "error", "code": "timeline_full", "message": "slow down"},
    ]
    assert list(frames[0].as_dict()) == ["type", "client_id", "event_id", "conversation_id"]


def test_a_frame_leaves_as_compact_utf8_json_and_what_orjson_refuses_as_json_did_it() -> None:
    """Frames are encoded by orjson (a frame per message and socket: ``json.dumps`` was the largest JSON cost of a
    message): the same JSON value, text in UTF-8 as it is (no ``\\u`` escapes), compact. What orjson does not take
    (a key that is not a string, an integer past 64 bits, a lone surrogate) still leaves, as ``json.dumps`` made it."""
    event = {"id": "1-0", "type": "message", "author": "customer", "text": "café ☕ 😀\n\u2028", "n": 1.5}
    frame = server.Event("c1", event)
    raw = server.encode(frame.as_dict())
    assert json.loads(raw) == frame.as_dict()
    assert "café ☕ 😀".encode() in raw and b"\\u" not in raw and b": " not in raw
    for odd in ({1: "int key"}, {"big": 2**70}, {"lone": "\ud800"}):
        assert server.encode(odd) == json.dumps(odd, separators=(",", ":")).encode("ascii")
