import json

import pytest

from gateway import json_input
from gateway.errors import BadRequest, GatewayError
from gateway.protocol import client
from gateway.protocol.client import CloseConversation, Hello, SendMessage, SetStatus, Typing
from gateway.protocol.states import AgentStatus
from media.sdp_offer import BadOffer, check_offer
from tests.support.junk import CHROMIUM_OFFER, Junk


@pytest.mark.parametrize(
    "obj, role, expected",
    [
        ({"type": "hello", "token": None}, "customer", Hello(token=None)),
        (
            {"type": "hello", "token": "t", "last_event_id": "5-0", "context": {"page": "/x"}},
            "customer",
            Hello(token="t", last_event_id="5-0", context={"page": "/x"}),
        ),
        ({"type": "message", "client_id": "m1", "text": "hi"}, "customer", SendMessage("m1", "hi")),
        (
            {"type": "message", "client_id": "m1", "text": "hi", "conversation_id": "c1"},
            "agent",
            SendMessage("m1", "hi", "c1"),
        ),
        ({"type": "typing", "active": True, "draft": ""}, "customer", Typing(True, "")),
        ({"type": "status", "status": "away"}, "agent", SetStatus(AgentStatus.AWAY)),
        (
            {"type": "close", "conversation_id": "c1", "disposition": "resolved"},
            "agent",
            CloseConversation("c1", "resolved"),
        ),
    ],
)
def test_valid_frames(obj, role, expected) -> None:  # type: ignore[no-untyped-def]
    assert client.parse(obj, role=role) == expected


@pytest.mark.parametrize(
    "obj, role, code, field",
    [
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
    ],
)
def test_invalid_frames_name_the_field(obj, role, code, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequest) as info:
        client.parse(obj, role=role)
    assert (info.value.code, info.value.field) == (code, field)


def test_decode_limits_and_json() -> None:
    with pytest.raises(BadRequest) as info:
        client.decode(json.dumps({"type": "message", "text": "x" * 17000}))
    assert info.value.code == "frame_too_large"
    with pytest.raises(BadRequest) as info:
        client.decode("{nope")
    assert info.value.code == "bad_json"
    with pytest.raises(BadRequest) as info:
        client.decode("[1, 2]")
    assert info.value.code == "bad_json"
    with pytest.raises(BadRequest) as info:
        client.decode(b"\xff\xfe")
    assert info.value.code == "bad_json"


def test_event_ids_compare_in_stream_order() -> None:
    ids = ["10-2", "9-5", "10-10", "10-0"]
    assert sorted(ids, key=client.parse_event_id) == ["9-5", "10-0", "10-2", "10-10"]
    assert client.parse_event_id("abc") is None


# ---------------------------------------------------------------- crash-free input (issue 11)


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 33 + "]" * 33,
        '{"type": "message", "client_id": "m", "text": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"a":' * 40 + "1" + "}" * 40,
        "[" * 15000,  # unbalanced: refused before the parser sees it
        '{"x": ' + "[[]" * 40 + "]" * 40 + "}",  # never 33 brackets in a row, 41 levels all the same
    ],
)
def test_deep_nesting_is_refused_before_parsing(raw: str) -> None:
    with pytest.raises(BadRequest) as info:
        client.decode(raw)
    assert info.value.code == "bad_json" and "the limit is 32" in info.value.message


def test_nesting_depth_ignores_brackets_in_strings_and_allows_32_levels() -> None:
    assert json_input.nesting_depth('{"text": "' + "[{" * 3000 + '"}') == 1
    assert json_input.nesting_depth('{"text": "a \\" [[[[ still a string", "x": [[1]]}') == 3
    obj = client.decode('{"type": "typing", "x": ' + "[" * 31 + "]" * 31 + "}")
    assert obj["type"] == "typing"


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "typing", "active": NaN}',
        '{"a": Infinity}',
        '{"a": -Infinity}',
        '{"a": 1e999}',
        '{"type": "csat", "rating": -2.5e400}',
        '{"a": ' + "1" * 5000 + "}",
        b'{"a": "\xed\xa0\x80"}',
        b"\xff\xfe{}",
        "{}garbage",
    ],
)
def test_not_json_is_bad_json(raw: str | bytes) -> None:
    with pytest.raises(BadRequest) as info:
        client.decode(raw)
    assert info.value.code == "bad_json"


@pytest.mark.parametrize(
    "obj, role, field",
    [
        ({"type": "message", "client_id": "m1", "text": "hi \ud800"}, "customer", "text"),
        ({"type": "message", "client_id": "m\udfff", "text": "hi"}, "customer", "client_id"),
        ({"type": "message", "client_id": "m1", "text": "bell \x07"}, "customer", "text"),
        ({"type": "message", "client_id": "m1", "text": "nul \x00"}, "customer", "text"),
        ({"type": "message", "client_id": "m1", "text": "c1 \x85"}, "customer", "text"),
        ({"type": "message", "client_id": "m\n1", "text": "hi"}, "customer", "client_id"),
        ({"type": "message", "client_id": "m\t1", "text": "hi"}, "customer", "client_id"),
        ({"type": "typing", "active": True, "draft": "\ud83d"}, "customer", "draft"),
        ({"type": "hello", "token": "abc\ud800"}, "customer", "token"),
        ({"type": "hello", "token": "abc\ndef"}, "customer", "token"),
        ({"type": "hello", "context": {"page": "/x\ud800"}}, "customer", "context.page"),
        ({"type": "hello", "context": {"page": "/x\x1b[31m"}}, "customer", "context.page"),
        ({"type": "hello", "context": {"page\n": "/x"}}, "customer", "context"),
        ({"type": "hello", "last_event_id": "1-\ud800"}, "customer", "last_event_id"),
        ({"type": "message", "conversation_id": "c\x00", "client_id": "m", "text": "hi"}, "agent", "conversation_id"),
        ({"type": "note", "conversation_id": "c", "client_id": "n", "text": "\udc00"}, "agent", "text"),
        ({"type": "status", "status": "away", "reason": "lunch\x7f"}, "agent", "reason"),
        ({"type": "status", "status": "away", "reason": "lunch\n"}, "agent", "reason"),
        ({"type": "close", "conversation_id": "c", "disposition": "resolved\ud800"}, "agent", "disposition"),
        ({"type": "call_transfer", "call_id": "k", "agent_id": "bob\x00"}, "agent", "agent_id"),
        ({"type": "hangup", "call_id": "k\r"}, "customer", "call_id"),
        ({"type": "callback_cancel", "callback_id": "\ud800"}, "customer", "callback_id"),
        ({"type": "call_offer", "call_id": "k", "sdp": "v=0\r\n\ud800"}, "customer", "sdp"),
    ],
)
def test_strings_must_be_real_text(obj, role, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadRequest) as info:
        client.parse(obj, role=role)
    assert (info.value.code, info.value.field) == ("bad_field", field)
    info.value.message.encode("utf-8")  # the message itself is printable, loggable text


def test_text_fields_keep_newlines_and_tabs_and_any_real_unicode() -> None:
    frame = client.parse(
        {"type": "message", "client_id": "m1", "text": "line 1\r\n\tline 2 😀 日本 שלום \u200f."}, role="customer"
    )
    assert frame == client.SendMessage("m1", "line 1\r\n\tline 2 😀 日本 שלום \u200f.")  # (a right-to-left mark)


def test_what_people_write_loses_bidi_overrides_that_would_disguise_it() -> None:
    """A customer's "IBAN DE89 3704 \u202e0040 4405 32\u202c" showed its digits reversed in the desk, and a link to
    "receipt\u202efdp.exe" read "receiptexe.pdf" (an exploratory test): the embedding, override and isolate
    controls go from messages, notes, drafts and comments; a message of nothing else is empty."""
    text = "IBAN DE89 3704 \u202e0040 4405 32\u202c and https://example.com/receipt\u202efdp.exe \u2067x\u2069"
    frame = client.parse({"type": "message", "client_id": "m1", "text": text}, role="customer")
    assert frame == client.SendMessage("m1", "IBAN DE89 3704 0040 4405 32 and https://example.com/receiptfdp.exe x")
    note = client.parse({"type": "note", "conversation_id": "c1", "client_id": "n1", "text": "a\u202db"}, role="agent")
    assert isinstance(note, client.SendNote) and note.text == "ab"
    typing = client.parse({"type": "typing", "active": True, "draft": "\u202eabc"}, role="customer")
    assert isinstance(typing, Typing) and typing.draft == "abc"
    with pytest.raises(BadRequest) as refused:
        client.parse({"type": "message", "client_id": "m2", "text": "\u202e \u202c"}, role="customer")
    assert refused.value.field == "text" and "must not be empty" in refused.value.message
    # the page a conversation started on is shown to agents too; an SDP is no one's words: kept as sent
    hello = client.parse({"type": "hello", "context": {"page": "https://shop.example/a\u202efdp.exe"}}, role="customer")
    assert isinstance(hello, Hello) and hello.context == {"page": "https://shop.example/afdp.exe"}
    hello = client.parse({"type": "hello", "context": {"page": "/a\nb"}}, role="customer")
    assert isinstance(hello, Hello) and hello.context == {"page": "/a\nb"}


def test_unknown_type_message_escapes_junk() -> None:
    with pytest.raises(BadRequest) as info:
        client.parse({"type": "x\ud800\x00"}, role="customer")
    assert info.value.code == "unknown_type"
    info.value.message.encode("utf-8")
    assert "\\ud800" in info.value.message


GOOD_OFFER = CHROMIUM_OFFER


@pytest.mark.parametrize(
    "sdp, code",
    [
        (GOOD_OFFER.replace("m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126", "m=audio junk"), "bad_sdp"),
        (GOOD_OFFER.replace("m=audio 9 UDP/TLS/RTP/SAVPF", "m=audio 9 UDP/TLS/RTP/SAVPF x"), "bad_sdp"),
        (GOOD_OFFER.replace("a=rtpmap:111 opus/48000/2", "a=rtpmap:111"), "bad_sdp"),
        (GOOD_OFFER.replace("a=rtpmap:111 opus/48000/2\r\n", ""), "bad_sdp"),  # fmtp for a PT with no rtpmap
        (GOOD_OFFER.replace("a=setup:actpass", "a=setup:bogus"), "bad_sdp"),
        (GOOD_OFFER.replace("a=rtcp:9 IN IP4 0.0.0.0", "a=rtcp:abc"), "bad_sdp"),
        (GOOD_OFFER.replace("c=IN IP4 0.0.0.0", "c=IN IP9 x"), "bad_sdp"),
        (
            GOOD_OFFER.replace("a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0", "a=candidate:1"),
            "bad_sdp",
        ),
        (GOOD_OFFER.replace("a=sendrecv\r\n", ""), "bad_sdp"),  # no direction
        (GOOD_OFFER.replace("a=rtcp-mux\r\n", ""), "bad_sdp"),
        (GOOD_OFFER.replace("a=ice-pwd:a8bKf0Jc3m1Jm6jBCiqI4RqQ\r\n", ""), "bad_sdp"),
        (
            GOOD_OFFER.replace("111 63 9 0 8 13 110 126", "98").split("a=rtpmap")[0] + "a=rtpmap:98 H264/90000\r\n",
            "bad_sdp",
        ),  # no codec in common
        (GOOD_OFFER + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\n", "bad_sdp"),  # a section without ICE
        (GOOD_OFFER.replace("m=audio", "m=video"), "no_audio"),
        ("v=0\r\n", "no_audio"),
        ("v=0 garbage", "bad_sdp"),
    ],
)
def test_sdp_offers_are_checked_totally(sdp: str, code: str) -> None:
    for frame, role in (
        ({"type": "call_offer", "call_id": "k", "sdp": sdp}, "customer"),
        ({"type": "call_offer", "call_id": "k", "sdp": sdp}, "agent"),
        ({"type": "call_monitor", "call_id": "k", "sdp": sdp}, "agent"),
    ):
        with pytest.raises(BadRequest) as info:
            client.parse(frame, role=role)
        assert (info.value.code, info.value.field) == (code, "sdp"), (frame["type"], info.value.message)


def test_a_real_offer_parses() -> None:
    frame = client.parse({"type": "call_offer", "call_id": "k", "sdp": GOOD_OFFER}, role="customer")
    assert frame == client.CallOffer("k", GOOD_OFFER)


def test_mutated_offers_never_escape_the_check() -> None:
    """Seeded: 3,000 mutations of a Chromium offer: each is accepted or BadOffer, nothing else."""
    junk = Junk(11)
    outcomes: dict[str, int] = {}
    for _ in range(3000):
        sdp = junk.sdp(GOOD_OFFER)
        try:
            check_offer(sdp)
            outcomes["ok"] = outcomes.get("ok", 0) + 1
        except BadOffer as exc:
            outcomes[exc.code] = outcomes.get(exc.code, 0) + 1
    assert set(outcomes) <= {"ok", "bad_sdp", "no_audio"} and outcomes["bad_sdp"] > 1000 and outcomes["ok"] > 100


def test_a_test_runs_hello_and_call_offer() -> None:
    """The flow console's test run: ``test_flow`` with an admin's token in ``admin_token`` (customer socket only)."""
    run = {"name": "default", "version": "0123456789ab"}
    hello = client.parse({"type": "hello", "token": None, "admin_token": "a.b", "test_flow": run}, role="customer")
    assert hello == Hello(token=None, test_flow=client.TestFlow("default", "0123456789ab"), admin_token="a.b")
    voice = client.parse(
        {"type": "hello", "token": None, "admin_token": "a.b", "test_flow": {**run, "channel": "voice"}},
        role="customer",
    )
    assert isinstance(voice, Hello) and voice.test_flow == client.TestFlow("default", "0123456789ab", "voice")
    offer = client.parse({"type": "call_offer", "call_id": "c1", "sdp": GOOD_OFFER, "test_flow": run}, role="customer")
    assert offer == client.CallOffer("c1", GOOD_OFFER, client.TestFlow("default", "0123456789ab"))
    # the desk's socket has no test runs: the fields are not read there
    agent = client.parse({"type": "hello", "token": "t", "admin_token": "a.b", "test_flow": run}, role="agent")
    assert agent == Hello(token="t")


@pytest.mark.parametrize(
    "extra, code, field",
    [
        ({"test_flow": {"name": "default", "version": "0123456789ab"}}, "unauthorized", "admin_token"),
        ({"admin_token": "a.b"}, "bad_field", "admin_token"),
        ({"admin_token": "a.b", "test_flow": "default"}, "bad_field", "test_flow"),
        ({"admin_token": "a.b", "test_flow": {"name": "a b", "version": "0123456789ab"}}, "bad_field", "test_flow"),
        ({"admin_token": "a.b", "test_flow": {"name": "default", "version": "live"}}, "bad_field", "test_flow"),
        (
            {"admin_token": "a.b", "test_flow": {"name": "default", "version": "0123456789ab", "channel": "sms"}},
            "bad_field",
            "test_flow",
        ),
        ({"admin_token": 5, "test_flow": {"name": "default", "version": "0123456789ab"}}, "bad_field", "admin_token"),
    ],
)
def test_a_bad_test_run_hello_is_refused_naming_its_field(extra: dict, code: str, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(GatewayError) as refused:
        client.parse({"type": "hello", "token": None, **extra}, role="customer")
    assert (refused.value.code, refused.value.field) == (code, field)
