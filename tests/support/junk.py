"""Junk for the protocol fuzz test and ``bench junk``: seeded, bounded generators of bad client input.

    junk = Junk(seed=7)
    raw = junk.frame("customer")            # text or bytes to send on a socket, usually invalid
    raw = junk.invalid_message()            # a customer ``message`` frame that must be refused
    sdp = junk.sdp(base_offer)              # a mutated SDP offer (1-3 line mutations)

Frames are valid client frames mutated the way an attacker or a broken client
would: wrong types, huge or negative numbers, lone surrogates and control
characters in strings, deep nesting, unknown fields, frame types of the other
role, binary frames, invalid JSON and UTF-8, oversized frames. The same seed
gives the same sequence.
"""

from __future__ import annotations

import json
import random
from typing import Any

SURROGATES = ["\ud800", "\udfff", "a\udc00b", "\ud83d", "ok\ud800\ud800"]
CONTROLS = ["\x00", "\x07", "\x1b[31mred", "\x7f", "a\x00b", "\x85", "\x08\x08", "\x0b", "\x0c"]
ID_ONLY_BAD = ["a\nb", "tab\there", "cr\r"]  # fine in text, not in ids
ODD_TEXT = ["\u202eevil", "😀", "\ufeff", "\u200b", "日本語", "ÿ", "\uffff", "a" * 3]

# What Chromium offers for one microphone (trimmed; telephone-event on 110 and 126 as Chromium does).
CHROMIUM_OFFER = "\r\n".join(
    [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "a=extmap-allow-mixed",
        "a=msid-semantic: WMS stream",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0",
        "a=ice-ufrag:Xq3t",
        "a=ice-pwd:a8bKf0Jc3m1Jm6jBCiqI4RqQ",
        "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
        "a=setup:actpass",
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=sendrecv",
        "a=msid:stream track",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=rtcp-fb:111 transport-cc",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:63 red/48000/2",
        "a=fmtp:63 111/111",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:13 CN/8000",
        "a=rtpmap:110 telephone-event/48000",
        "a=rtpmap:126 telephone-event/8000",
        "a=ssrc:1234 cname:abcdefgh",
        "a=ssrc:1234 msid:stream track",
        "",
    ]
)

# Lines that break parsers: inserted into offers, or replacing one of their lines.
SDP_LINES = [
    "m=audio junk",
    "m=audio",
    "m=audio 9",
    "m=audio 9 UDP/TLS/RTP/SAVPF",
    "m=audio -1 RTP/AVP x",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 abc",
    "m=audio 99999999999999999999 UDP/TLS/RTP/SAVPF 0",
    "m=video 9 UDP/TLS/RTP/SAVPF 96",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "m=application 9 DTLS/SCTP x",
    "m=text 9 RTP/AVP 0",
    "m=",
    "a=rtpmap:abc",
    "a=rtpmap:111",
    "a=rtpmap:111 opus",
    "a=rtpmap:111 opus/x/2",
    "a=rtpmap:200 opus/48000/2",
    "a=rtpmap:-5 PCMU/8000",
    "a=fmtp:111",
    "a=fmtp:x y",
    "a=fmtp:111 ;;==;",
    "a=rtcp-fb:111",
    "a=rtcp-fb:x nack",
    "a=candidate:1 1 udp x 127.0.0.1 9 typ host",
    "a=candidate:",
    "a=candidate:1 1 udp 1 ::zz 9 typ host",
    "a=candidate:1 1 tcp 1 127.0.0.1 70000 typ srflx",
    "a=ssrc-group:FID",
    "a=ssrc-group:FID x y",
    "a=ssrc:x cname:y",
    "a=ssrc:1",
    "a=extmap:x urn:y",
    "a=extmap:",
    "a=setup:bogus",
    "a=setup:",
    "a=fingerprint:md5 zz",
    "a=fingerprint:",
    "a=fingerprint:sha-256",
    "c=IN IP4",
    "c=IN IP9 x",
    "a=rtcp:abc",
    "a=rtcp:9 IN",
    "a=sctp-port:x",
    "a=sctpmap:x",
    "a=max-message-size:x",
    "a=msid",
    "a=msid:",
    "a=group:BUNDLE 7",
    "a=group:",
    "a=mid:",
    "a=mid:0",
    "a=ice-ufrag:",
    "a=ice-pwd:",
    "a=ice-lite",
    "a=ice-options:",
    "a=end-of-candidates",
    "a=sendonly",
    "a=inactive",
    "a=recvonly",
    "b=AS:x",
    "b=",
    "o=- x y IN IP4 1",
    "o=",
    "s=",
    "t=x y",
    "v=1",
    "x=unknown",
    "a=",
    "=",
    "",
    "a=rtcp-mux",
    "a=rtcp-rsize",
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x",
    "a=simulcast:send x",
    "a=rid:0 send",
]
SDP_TOKENS = [
    "",
    "-1",
    "0",
    "65536",
    "99999999999999999999",
    "abc",
    "\x00",
    "ÿ",
    "%",
    ":",
    "/",
    " ",
    "1e9",
    "NaN",
    "0x10",
    "1.5",
    "::",
    "a b c",
    "\ud800",
]


class Junk:
    """A seeded source of junk frames and SDP offers."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self._n = 0

    # ---------------------------------------------------------------- values

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def bad_string(self) -> str:
        """A string no field accepts: a lone surrogate or a control character (other than \\n \\r \\t)."""
        r = self.rng
        base = r.choice(["", "hi ", "x" * r.randint(1, 30)])
        return base + r.choice(SURROGATES + CONTROLS) + r.choice(["", " tail"])

    def deep(self, depth: int) -> Any:
        obj: Any = "x"
        for _ in range(depth):
            obj = [obj] if self.rng.random() < 0.5 else {"k": obj}
        return obj

    def value(self) -> Any:
        """Any JSON value, mostly one a field does not expect."""
        r = self.rng
        choices: list[Any] = [
            0,
            -1,
            1,
            2**31,
            -(2**31) - 1,
            2**63,
            -(2**63) - 1,
            10**30,
            -(10**30),
            1.5,
            -0.0,
            1e308,
            -1e308,
            True,
            False,
            None,
            [],
            {},
            [1, "a"],
            {"a": 1},
            "",
            " ",
            "\n",
            "x" * r.randint(60, 5000),
            self.bad_string(),
            r.choice(ID_ONLY_BAD),
            r.choice(ODD_TEXT),
            self.deep(r.randint(2, 30)),
            "5-0",
            "0-0",
            "99999999999999999999-1",
            "-1--1",
            "call-1",
            "c_0000",
            "available",
            "away",
        ]
        return r.choice(choices)

    # ---------------------------------------------------------------- frames

    def template(self, role: str) -> dict[str, Any]:
        """A valid-looking frame of any type (mostly the role's own, sometimes the other role's)."""
        r = self.rng
        cid, call = f"c_{r.getrandbits(64):016x}", self._id("call-")
        customer: list[dict[str, Any]] = [
            {"type": "hello", "token": None, "context": {"page": "/shop"}},
            {"type": "typing", "active": True, "draft": "hel"},
            {"type": "dtmf", "call_id": call, "digits": "12#"},
            {"type": "hangup", "call_id": call},
            {"type": "callback_cancel", "callback_id": self._id("cb-")},
            {"type": "call_offer", "call_id": call, "sdp": "v=0\r\nm=audio " + r.choice(SDP_TOKENS)},
        ]
        agent: list[dict[str, Any]] = [
            {"type": "message", "conversation_id": cid, "client_id": self._id("a-"), "text": "hello"},
            {"type": "note", "conversation_id": cid, "client_id": self._id("n-"), "text": "internal"},
            {"type": "typing", "active": False, "conversation_id": cid},
            {"type": "status", "status": r.choice(["available", "away"]), "reason": "lunch"},
            {"type": "open", "conversation_id": cid, "last_event_id": "1-0"},
            {"type": "close", "conversation_id": cid, "disposition": "resolved"},
            {"type": "call_decline", "call_id": call},
            {"type": "call_hold", "call_id": call, "hold": True},
            {"type": "call_transfer", "call_id": call, "queue": "billing"},
            {"type": "call_monitor", "call_id": call, "mode": "listen"},
            {"type": "call_consult", "call_id": call, "action": "start", "agent_id": "bob"},
            {"type": "call_invite", "conversation_id": cid},
            {"type": "callback_outcome", "callback_id": self._id("cb-"), "outcome": "reached"},
            {"type": "hangup", "call_id": call},
            {"type": "call_offer", "call_id": call, "sdp": "v=0\r\nm=audio " + r.choice(SDP_TOKENS)},
        ]
        own, other = (customer, agent) if role == "customer" else (agent, customer)
        return dict(r.choice(own if r.random() < 0.85 else other))

    def mutate(self, frame: dict[str, Any]) -> dict[str, Any]:
        r = self.rng
        for _ in range(r.randint(1, 3)):
            names = [k for k in frame if k != "type"]
            op = r.randrange(7)
            if op == 0 and names:  # a field gets a wrong value
                frame[r.choice(names)] = self.value()
            elif op == 1 and names:  # a string field gets a bad character
                name = r.choice(names)
                frame[name] = (frame[name] if isinstance(frame[name], str) else "") + self.bad_string()
            elif op == 2 and names:  # a field goes missing
                del frame[r.choice(names)]
            elif op == 3:  # an unknown field
                frame[r.choice(["extra", "__proto__", "constructor", "type2", "x" * 40])] = self.value()
            elif op == 4:  # the type itself
                frame["type"] = r.choice(
                    [
                        self.value(),
                        "launch_missiles",
                        "HELLO",
                        "message ",
                        "welcome",
                        "error",
                        "ack",
                        "dtmf",
                        "callback_cancel",
                        "close",
                        "status",
                    ]
                )
            elif op == 5:  # the context (hello) or a nested value
                frame["context"] = r.choice(
                    [
                        {self.bad_string(): "v"},
                        {"page": self.bad_string()},
                        {"k": self.deep(40)},
                        "ctx",
                        [],
                        {str(i): "v" for i in range(r.randint(15, 40))},
                        {"k" * 100: "v"},
                        {"k": "v" * 600},
                    ]
                )
            else:  # ids and text with ids' forbidden characters
                name = r.choice(names or ["client_id"])
                frame[name] = r.choice(ID_ONLY_BAD + SURROGATES)
        return frame

    def encode(self, frame: Any) -> str | bytes:
        """Serialised, sometimes broken on the way: invalid JSON, binary, bad UTF-8, deep nesting, oversized."""
        r = self.rng
        text = json.dumps(frame)
        roll = r.random()
        if roll < 0.55:
            return text
        if roll < 0.62:
            return text.encode()  # the same, as a binary frame
        if roll < 0.67:
            return text[: r.randint(0, max(0, len(text) - 1))]  # truncated
        if roll < 0.72:  # nested far past any sane depth
            depth = r.choice([33, 100, 1000, 3000, 5000, 7000])
            opener, closer = r.choice([("[", "]"), ('{"a":', "}")])
            inner = opener * depth + "1" + closer * depth
            return '{"type": "message", "client_id": "deep", "text": ' + inner + "}" if r.random() < 0.5 else inner
        if roll < 0.76:  # invalid UTF-8 inside a string
            return (
                b'{"type": "message", "client_id": "'
                + r.choice([b"\xff", b"\xc3", b"\xed\xa0\x80"])
                + b'", "text": "a"}'
            )
        if roll < 0.80:
            return bytes(r.getrandbits(8) for _ in range(r.randint(0, 64)))
        if roll < 0.83:  # over the 16 KiB frame limit (under 256 KiB)
            return json.dumps({**frame, "pad": "x" * r.randint(17 * 1024, 64 * 1024)})
        if roll < 0.86:
            return r.choice(
                [
                    "NaN",
                    "Infinity",
                    "-Infinity",
                    "null",
                    "true",
                    "1",
                    '"s"',
                    "[]",
                    "{}",
                    "",
                    "1" * 5000,
                    '{"type": "typing", "active": NaN}',
                    '{"type": "message", "type": 1}',
                    '{"a": 1, "a": 2}',
                    "\ufeff{}",
                    "{" * 20000,
                ]
            )
        if roll < 0.90:  # a surrogate written raw in the JSON text
            return text.replace('"', '"\\ud800', 1)
        return text.replace("}", ', "n": ' + r.choice(["1" * 400, "-" + "9" * 300, "1e999", "-1e999"]) + "}", 1)

    def frame(self, role: str) -> str | bytes:
        """One junk frame for a socket of ``role`` ('customer' or 'agent'), after the hello."""
        if role == "customer" and self.rng.random() < 0.4:
            return self.invalid_message()
        frame = self.template(role)
        if frame["type"] == "message" and role == "customer":
            return self.invalid_message()
        return self.encode(self.mutate(frame))

    def hello(self) -> str | bytes:
        """A junk first frame: a hello with a bad token or context, or any junk."""
        r = self.rng
        token: Any = r.choice(
            [
                None,
                "",
                "not-a-token",
                "é" * 10,
                "\u0100abc.def",
                "a.b",
                "a.b.c",
                "x" * 3000,
                "v1.\ud800.sig",
                "..",
                "€.€",
                12,
                [],
                {},
                True,
                self.bad_string(),
                "eyJ9." + "A" * 40 + "." + "B" * 43,
                # well formed up to a signature that is not ASCII / not base64
                "eyJzdWIiOiJ1XzEiLCJraW5kIjoiY3VzdG9tZXIiLCJleHAiOjk5OTk5OTk5OTl9." + "ÿ" * 43,
                "eyJzdWIiOiJ1XzEiLCJraW5kIjoiY3VzdG9tZXIiLCJleHAiOjk5OTk5OTk5OTl9.é",
                "eyJzdWIiOiJ1XzEiLCJraW5kIjoiY3VzdG9tZXIiLCJleHAiOjk5OTk5OTk5OTl9.AAAA",
                "e30." + "A" * 43,
                "W10." + "A" * 43,
                "bnVsbA." + "A" * 43,
            ]
        )
        frame: dict[str, Any] = {"type": "hello", "token": token}
        if r.random() < 0.5:
            frame = self.mutate(frame)
        return self.encode(frame)

    def invalid_message(self) -> str | bytes:
        """A customer ``message`` frame that must be refused (and so must store nothing)."""
        r = self.rng
        frame: dict[str, Any] = {"type": "message", "client_id": self._id("m-"), "text": "hello"}
        op = r.randrange(9)
        if op == 0:
            frame["text"] = "hi " + self.bad_string()
        elif op == 1:
            frame["client_id"] = self.bad_string()
        elif op == 2:
            frame["client_id"] = "m" + r.choice(ID_ONLY_BAD)
        elif op == 3:
            frame[r.choice(["text", "client_id"])] = r.choice(
                [0, -1, 2**64, 1.5, True, None, [], {}, ["hi"], {"t": "hi"}, self.deep(r.randint(2, 30))]
            )
        elif op == 4:
            del frame[r.choice(["text", "client_id"])]
        elif op == 5:
            frame[r.choice(["text", "client_id"])] = r.choice(["", " ", "\n\t", "x" * 5000])
        elif op == 6:
            depth = r.choice([33, 50, 500, 5000])
            return '{"type": "message", "client_id": "d", "text": "t", "x": ' + "[" * depth + "]" * depth + "}"
        elif op == 7:
            return b'{"type": "message", "client_id": "\xed\xa0\x80", "text": "a"}'
        else:
            frame["text"] = "hello \\ud800"
            return json.dumps(frame).replace("\\\\ud800", "\\ud800")
        return json.dumps(frame) if r.random() < 0.8 else json.dumps(frame).encode()

    # ---------------------------------------------------------------- SDP

    def sdp(self, base: str) -> str:
        """``base`` with 1-3 line mutations (about one in six keeps it usable)."""
        r = self.rng
        lines = base.replace("\r\n", "\n").split("\n")
        for _ in range(r.randint(1, 3)):
            i = r.randrange(1, len(lines))  # keep v=0 so the offer reaches the SDP parser
            op = r.randrange(8)
            if op == 0:
                del lines[i]
            elif op == 1:
                lines.insert(i, lines[i])
            elif op == 2:
                lines.insert(i, r.choice(SDP_LINES))
            elif op == 3:
                lines[i] = r.choice(SDP_LINES)
            elif op == 4:  # one token of a line replaced
                head, sep, rest = lines[i].partition("=")
                tokens = rest.replace(":", " : ").replace("/", " / ").split(" ")
                if tokens:
                    tokens[r.randrange(len(tokens))] = r.choice(SDP_TOKENS)
                lines[i] = head + sep + " ".join(tokens).replace(" : ", ":").replace(" / ", "/")
            elif op == 5:
                lines[i] = lines[i][: r.randint(0, len(lines[i]))]
            elif op == 6:
                j = r.randrange(1, len(lines))
                lines[i], lines[j] = lines[j], lines[i]
            else:  # the audio section's m= line
                m = next((k for k, line in enumerate(lines) if line.startswith("m=audio")), i)
                lines[m] = "m=audio " + r.choice(SDP_TOKENS + ["9 UDP/TLS/RTP/SAVPF " + r.choice(SDP_TOKENS)])
        return r.choice(["\r\n", "\n", "\r\n"]).join(lines)
