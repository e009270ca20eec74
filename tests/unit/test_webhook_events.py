"""Event webhooks, the pure parts: which timeline events become which webhook events, the payload, the signature
(verified with the snippet docs/webhooks.md gives), the checks on a subscription's fields, the backoff, the seed file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import BadRequest, ConfigError
from gateway.ops.webhook_delivery import backoff
from gateway.ops.webhooks import (
    DATA_FIELDS,
    Subscription,
    WebhookEvent,
    load_seed,
    parse_fields,
    payload,
    signature,
    url_host,
    url_origin,
    webhook_event,
)
from gateway.protocol.states import EventType
from gateway.store.event_log_store import LoggedEvent

DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verify() -> Any:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert code is not None, "docs/webhooks.md shows how to verify a signature in Python"
    scope: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), scope)  # noqa: S102 - our own documentation
    return scope["verify"]


@pytest.mark.parametrize(
    "typ, data, expected",
    [
        (EventType.OPENED, {"customer_id": "u1"}, WebhookEvent.CONVERSATION_OPENED),
        (EventType.ASSIGNED, {"agent_id": "alice"}, WebhookEvent.CONVERSATION_ASSIGNED),
        (EventType.CLOSED, {"disposition": "resolved"}, WebhookEvent.CONVERSATION_CLOSED),
        (EventType.CALL_STARTED, {}, WebhookEvent.CALL_STARTED),
        (EventType.CALL_ANSWERED, {}, WebhookEvent.CALL_ANSWERED),
        (EventType.CALL_ENDED, {}, WebhookEvent.CALL_ENDED),
        (EventType.CALLBACK, {"action": "requested"}, WebhookEvent.CALLBACK_BOOKED),
        (EventType.CALLBACK, {"action": "closed"}, WebhookEvent.CALLBACK_CLOSED),
        (EventType.CALLBACK, {"action": "attempt"}, None),
        (EventType.MESSAGE, {"author": "customer", "text": "hi"}, WebhookEvent.MESSAGE_CREATED),
        (EventType.NOTE, {"text": "internal"}, None),
        (EventType.TRANSCRIPT, {"text": "hello"}, None),
        (EventType.STATE, {"state": "queued"}, None),
        ("no_such_type", {}, None),
    ],
)
def test_which_timeline_events_are_webhook_events(
    typ: str, data: dict[str, Any], expected: WebhookEvent | None
) -> None:
    assert webhook_event(typ, data) == expected


def test_every_webhook_event_has_its_data_fields() -> None:
    assert set(DATA_FIELDS) == set(WebhookEvent)


def test_the_payload_is_the_documented_schema_and_carries_only_listed_fields() -> None:
    event = LoggedEvent(
        id="1767323045678-0",
        cid="c_1",
        event_id="1767323045678-3",
        type=EventType.MESSAGE,
        data={"author": "agent", "text": "Hello", "client_id": "m-7", "agent_id": "alice", "agent_name": "Alice"},
        ts=1767323045678,
        queue="billing",
        agent_id="alice",
    )
    body = json.loads(payload(event, WebhookEvent.MESSAGE_CREATED))
    assert body == {
        "id": "1767323045678-0",
        "type": "message.created",
        "occurred_at": "2026-01-02T03:04:05.678Z",
        "conversation_id": "c_1",
        "queue": "billing",
        "agent_id": "alice",
        "data": {"author": "agent", "text": "Hello", "agent_id": "alice", "agent_name": "Alice"},
    }
    opened = LoggedEvent("1-0", "c_2", "1-1", EventType.OPENED, {"customer_id": "u", "context": {"x": 1}}, 5, "", "")
    assert json.loads(payload(opened, WebhookEvent.CONVERSATION_OPENED)) == {
        "id": "1-0",
        "type": "conversation.opened",
        "occurred_at": "1970-01-01T00:00:00.005Z",
        "conversation_id": "c_2",
        "queue": None,
        "agent_id": None,
        "data": {"customer_id": "u"},
    }


def test_the_documented_snippet_verifies_the_signature_and_refuses_tampering(monkeypatch: pytest.MonkeyPatch) -> None:
    verify = documented_verify()
    secret, body, now = "whsec_0123456789abcdef", b'{"id":"1-0"}', 1_767_323_045
    monkeypatch.setattr("time.time", lambda: now + 10)
    header = signature(secret, now, body)
    assert re.fullmatch(r"t=1767323045,v1=[0-9a-f]{64}", header)
    assert verify(secret, header, body)
    assert not verify(secret, header, body + b" ")
    assert not verify("another-secret-0123", header, body)
    assert not verify(secret, header.replace("t=1767323045", "t=1767323046"), body)
    assert not verify(secret, signature(secret, now - 3600, body), body)  # too old: a replay
    assert not verify(secret, "garbage", body)


@pytest.mark.parametrize(
    "body, field, code",
    [
        ({"events": ["message.created"]}, "url", "missing_field"),
        ({"url": "ftp://crm.example.com/x", "events": ["message.created"]}, "url", "bad_field"),
        ({"url": "/relative", "events": ["message.created"]}, "url", "bad_field"),
        ({"url": "https://user:pw@crm.example.com/", "events": ["message.created"]}, "url", "bad_field"),
        ({"url": "https://crm.example.com/#x", "events": ["message.created"]}, "url", "bad_field"),
        ({"url": "https://crm.example.com/" + "a" * 2100, "events": ["message.created"]}, "url", "bad_field"),
        ({"url": "https://crm.example.com/\nx", "events": ["message.created"]}, "url", "bad_field"),
        ({"url": "https://crm.example.com/"}, "events", "missing_field"),
        ({"url": "https://crm.example.com/", "events": []}, "events", "bad_field"),
        ({"url": "https://crm.example.com/", "events": "message.created"}, "events", "bad_field"),
        ({"url": "https://crm.example.com/", "events": ["call.rang"]}, "events", "bad_field"),
        ({"url": "https://crm.example.com/", "events": [7]}, "events", "bad_field"),
        ({"url": "https://crm.example.com/", "events": ["message.created"], "secret": "short"}, "secret", "bad_field"),
        ({"url": "https://crm.example.com/", "events": ["message.created"], "enabled": "yes"}, "enabled", "bad_field"),
        (
            {"url": "https://crm.example.com/", "events": ["message.created"], "description": 5},
            "description",
            "bad_field",
        ),
        ({"url": "https://crm.example.com/", "events": ["message.created"], "headers": {}}, "headers", "bad_field"),
    ],
)
def test_bad_subscription_fields_are_refused_naming_the_field(body: dict[str, Any], field: str, code: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_fields(body, creating=True)
    assert (caught.value.field, caught.value.code) == (field, code)


def test_good_fields_and_a_partial_update() -> None:
    body = {"url": "https://crm.example.com/hook?x=1", "events": ["message.created", "call.ended", "call.ended"]}
    assert parse_fields(body, creating=True) == {
        "url": "https://crm.example.com/hook?x=1",
        "events": (WebhookEvent.MESSAGE_CREATED, WebhookEvent.CALL_ENDED),
    }
    assert parse_fields({"enabled": False}, creating=False) == {"enabled": False}


def test_a_subscription_round_trips_and_shows_no_secret() -> None:
    sub = Subscription("wh_1", "https://x.example/", "s" * 20, (WebhookEvent.CALL_ENDED,), True, "d", 5, 6)
    assert Subscription.loads(sub.dumps()) == sub
    assert "secret" not in sub.public() and sub.public()["events"] == ["call.ended"]
    assert sub.wants(WebhookEvent.CALL_ENDED, 5) and not sub.wants(WebhookEvent.CALL_ENDED, 4)
    assert not sub.wants(WebhookEvent.CALL_STARTED, 9)


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    low = [backoff(n, 300, lambda: 0.0) for n in range(1, 11)]
    high = [backoff(n, 300, lambda: 1.0) for n in range(1, 11)]
    assert high == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert low == [h / 2 for h in high]
    assert backoff(3, 0.3, lambda: 1.0) == 0.3


def test_the_seed_file(tmp_path: Path) -> None:
    path = tmp_path / "webhooks.toml"
    path.write_text(
        '[[webhook]]\nid = "crm"\nurl = "https://crm.example.com/h"\nsecret = "0123456789abcdef"\n'
        'events = ["conversation.closed"]\nenabled = false\n'
    )
    assert load_seed(path) == [
        (
            "crm",
            {
                "url": "https://crm.example.com/h",
                "events": (WebhookEvent.CONVERSATION_CLOSED,),
                "secret": "0123456789abcdef",
                "enabled": False,
            },
        )
    ]
    path.write_text(
        '[[webhook]]\nid = "crm"\nurl = "https://crm.example.com/h"\nsecret = "0123456789abcdef"\nevents = ["x"]\n'
    )
    with pytest.raises(ConfigError, match="webhook #1: 'events': unknown event type 'x'"):
        load_seed(path)
    path.write_text('[[webhook]]\nurl = "https://crm.example.com/h"\nsecret = "0123456789abcdef"\nevents = []\n')
    with pytest.raises(ConfigError, match="'id' must be"):
        load_seed(path)


def test_a_url_is_shown_only_as_far_as_its_host_to_those_who_may_not_see_it_whole() -> None:
    assert url_origin("https://hooks.slack.com/services/T0/B0/XXXX") == "https://hooks.slack.com/…"
    assert url_origin("http://127.0.0.1:8080/hooks?token=abc") == "http://127.0.0.1:8080/…"
    assert url_origin("http://[::1]:9/x") == "http://[::1]:9/…"
    assert url_origin("/relative/location?token=abc") == "…"
    assert url_host("https://crm.example.com/h?k=1") == "crm.example.com"
