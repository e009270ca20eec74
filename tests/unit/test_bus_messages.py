"""Bus messages: one class per kind, the JSON they travel as, parsed back into the same class or refused."""

from __future__ import annotations

import json

import pytest

from gateway.protocol import bus
from gateway.protocol.states import Author, CallStatus, CaptionKind, EventType

SAMPLES: list[bus.Message] = [
    bus.EventAppended("1-0", EventType.MESSAGE, {"author": "customer", "text": "hi"}),
    bus.Typing(Author.CUSTOMER, True, draft="hel"),
    bus.Typing(Author.AGENT, False, name="Alice"),
    bus.CallUpdate(
        "call-1", CallStatus.RINGING, "", conversation_id="c1", agent_id="alice", agent_name="Alice", ring_seconds=20.0
    ),
    bus.CallUpdate("call-1", CallStatus.ENDED, "consult_cancelled", consult=True),
    bus.Follow("c1"),
    bus.QueueChanged(),
    bus.AgentsChanged(),
    bus.PresenceChanged(),
    bus.BoardChanged(),
    bus.Assigned("c1"),
    bus.Unassigned("c1", "closed"),
    bus.Rated("c1", {"id": "2-0", "type": "rating", "score": 4, "comment": "quick"}),
    bus.SessionRevoked(["s1", "s2"], "logout"),
    bus.CallCommand("r1", "node-a", "alice", "hold", "call-1", {"hold": True}),
    bus.CallReply("r1", True, result="v=0"),
    bus.CallReply("r1", False, error={"code": "not_found", "message": "no call"}),
    bus.Flush("f1"),
    bus.CallCaption("call-1", CaptionKind.SAID, "billing"),
    bus.FlowPublished("default", "a5cdb764a2bf"),
    bus.FlowAnswers("chats", "shop"),
    bus.FlowRetired("shop"),
    bus.AgentChanged("alice"),
    bus.CodesChanged("away_reasons"),
    bus.CallSupervisors("call-1", [{"agent_id": "sara", "name": "Sara", "mode": "whisper"}]),
    bus.CustomerErased(),
]


def test_every_kind_has_one_class() -> None:
    assert sorted(bus.KINDS) == sorted(bus.BusKind)
    assert {type(m) for m in SAMPLES} == set(bus.KINDS.values())


@pytest.mark.parametrize("message", SAMPLES, ids=lambda m: type(m).__name__)
def test_a_message_parses_back_into_itself(message: bus.Message) -> None:
    assert bus.parse(message.to_json()) == message
    assert bus.parse(message.to_json().encode()) == message


def test_the_json_the_wire_and_the_lua_scripts_share() -> None:
    assert [json.loads(m.to_json()) for m in SAMPLES[3:6]] == [
        {
            "kind": "call",
            "call_id": "call-1",
            "status": "ringing",
            "reason": "",
            "conversation_id": "c1",
            "agent_id": "alice",
            "agent_name": "Alice",
            "ring_seconds": 20.0,
        },
        {"kind": "call", "call_id": "call-1", "status": "ended", "reason": "consult_cancelled", "consult": True},
        {"kind": "conversation", "conversation_id": "c1"},
    ]
    # what gateway/store/store.py's Lua helper publishes for an appended event
    lua = '{"kind":"event","id":"17-0","type":"closed","data":{"disposition":"resolved"}}'
    assert bus.parse(lua) == bus.EventAppended("17-0", EventType.CLOSED, {"disposition": "resolved"})
    assert bus.QueueChanged().to_json() == '{"kind":"queue"}'


@pytest.mark.parametrize(
    "raw, why",
    [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"kind": "gossip"}', "unknown kind 'gossip'"),
        ('{"type": "message"}', "unknown kind 'None'"),
        ('{"kind": "assigned"}', "assigned message without 'conversation_id'"),
        (
            '{"kind": "call", "call_id": "c", "status": "dancing", "reason": ""}',
            "call message: status 'dancing' is not a CallStatus",
        ),
    ],
)
def test_a_bad_message_is_refused_saying_why(raw: str, why: str) -> None:
    with pytest.raises(bus.BadMessage) as caught:
        bus.parse(raw)
    assert why in str(caught.value)
