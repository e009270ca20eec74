import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import Unauthorized
from gateway.wire.tokens import AGENT, CUSTOMER, TokenSigner

SECRET = b"0123456789abcdef0123"
SIGNER = TokenSigner([SECRET])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_body(body: str, secret: bytes = SECRET) -> str:
    """A token whose signature is genuine whatever its body: what only a holder of the secret could make."""
    return f"{body}.{_b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())}"


def signed_payload(payload: object) -> str:
    return signed_body(_b64(json.dumps(payload).encode()))


def test_round_trip() -> None:
    token = SIGNER.sign("u_1", CUSTOMER, now=1000, ttl=60)
    claims = SIGNER.verify(token, CUSTOMER, now=1059)
    assert (claims.sub, claims.kind, claims.exp, claims.sid) == ("u_1", CUSTOMER, 1060, "")


def test_agent_token_carries_its_session() -> None:
    token = SIGNER.sign("alice", AGENT, now=1000, ttl=900, sid="s_abc")
    assert SIGNER.verify(token, AGENT, now=1000).sid == "s_abc"


@pytest.mark.parametrize(
    "mangle, code, words",
    [
        (lambda t: t.replace(".", ""), "unauthorized", "malformed"),
        (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "unauthorized", "signature"),
        (
            lambda t: "eyJzdWIiOiJ1XzIiLCJraW5kIjoiY3VzdG9tZXIiLCJleHAiOjk5OTk5OTk5OTl9." + t.split(".")[1],
            "unauthorized",
            "signature",
        ),
        (lambda t: "", "unauthorized", "malformed"),
    ],
)
def test_forged_tokens_are_refused_with_a_reason(mangle, code, words) -> None:  # type: ignore[no-untyped-def]
    token = SIGNER.sign("u_1", CUSTOMER, now=1000, ttl=60)
    with pytest.raises(Unauthorized) as info:
        SIGNER.verify(mangle(token), CUSTOMER, now=1000)
    assert info.value.code == code and words in info.value.message and info.value.field == "token"


def test_expired() -> None:
    token = SIGNER.sign("u_1", CUSTOMER, now=1000, ttl=60)
    with pytest.raises(Unauthorized) as info:
        SIGNER.verify(token, CUSTOMER, now=1061)
    assert info.value.code == "token_expired"
    assert SIGNER.verify(token, CUSTOMER, now=1061, grace=1).sub == "u_1"  # 1 s past exp: inside the grace
    with pytest.raises(Unauthorized) as info:
        SIGNER.verify(token, CUSTOMER, now=1062, grace=1)
    assert info.value.code == "token_expired"


def test_customer_token_is_not_an_agent_token() -> None:
    token = SIGNER.sign("alice", CUSTOMER, now=1000, ttl=60)
    with pytest.raises(Unauthorized, match="customer token, not a agent token"):
        SIGNER.verify(token, AGENT, now=1000)


def test_other_secret_cannot_verify() -> None:
    token = TokenSigner([b"another-secret-of-16+"]).sign("u_1", CUSTOMER, now=1000, ttl=60)
    with pytest.raises(Unauthorized, match="signature"):
        SIGNER.verify(token, CUSTOMER, now=1000)


def test_rotation_first_secret_signs_every_secret_verifies() -> None:
    old, new = TokenSigner([b"old-secret-0123456789"]), b"new-secret-0123456789"
    rotating = TokenSigner([new, b"old-secret-0123456789"])
    old_token = old.sign("u_1", CUSTOMER, now=1000, ttl=60)
    assert rotating.verify(old_token, CUSTOMER, now=1000).sub == "u_1"
    fresh = rotating.sign("u_2", CUSTOMER, now=1000, ttl=60)
    assert TokenSigner([new]).verify(fresh, CUSTOMER, now=1000).sub == "u_2"  # signed with the new one
    with pytest.raises(Unauthorized, match="signature"):
        old.verify(fresh, CUSTOMER, now=1000)
    with pytest.raises(Unauthorized, match="signature"):  # once the old one is dropped, its tokens end
        TokenSigner([new]).verify(old_token, CUSTOMER, now=1000)


def test_one_secret_or_a_short_one_is_refused() -> None:
    with pytest.raises(TypeError):
        TokenSigner(SECRET)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TokenSigner([SECRET, b"short"])
    with pytest.raises(ValueError):
        TokenSigner([])


@pytest.mark.parametrize(
    "token, words",
    [
        ("é.é", "malformed"),  # non-ASCII: compare_digest raised TypeError before
        ("abc.\u00e9\u00e9\u00e9", "malformed"),
        ("\ud800.abc", "malformed"),  # a lone surrogate
        ("a" * 100_000 + ".abc", "too long"),
        ("abc.def", "signature"),
        ("a.b.c", "malformed"),
        ("a b.c", "malformed"),
    ],
)
def test_junk_is_unauthorized(token: str, words: str) -> None:
    with pytest.raises(Unauthorized, match=words):
        SIGNER.verify(token, CUSTOMER, now=1000)


@pytest.mark.parametrize(
    "token",
    [
        signed_body("A"),  # base64 of impossible length
        signed_body(_b64(b"\xff\xfe not utf-8")),
        signed_body(_b64(b"not json")),
        signed_body(_b64(b"[" * 3000 + b"]" * 3000)),  # deep nesting: RecursionError in json
        signed_payload(["sub", "kind", "exp"]),  # not an object
        signed_payload("a string"),
        signed_payload(None),
        signed_payload({"kind": "customer", "exp": 2000}),  # missing sub
        signed_payload({"sub": "", "kind": "customer", "exp": 2000}),
        signed_payload({"sub": ["u"], "kind": "customer", "exp": 2000}),
        signed_payload({"sub": "u", "kind": "customer"}),  # missing exp
        signed_payload({"sub": "u", "kind": "customer", "exp": "2000"}),
        signed_payload({"sub": "u", "kind": "customer", "exp": 1e999}),  # Infinity: int() raised OverflowError
        signed_payload({"sub": "u", "kind": "customer", "exp": True}),
        signed_payload({"sub": "u", "kind": "customer", "exp": 2000, "sid": 5}),
        signed_payload({"sub": "u", "kind": {"x": 1}, "exp": 2000}),
    ],
)
def test_signed_but_odd_payloads_are_unauthorized(token: str) -> None:
    with pytest.raises(Unauthorized, match="malformed") as info:
        SIGNER.verify(token, CUSTOMER, now=1000)
    assert info.value.field == "token"


def _verify_raises_only_unauthorized(token: str) -> None:
    try:
        SIGNER.verify(token, CUSTOMER, now=1000)
    except Unauthorized:
        return
    raise AssertionError(f"{token!r} was accepted")


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.text(alphabet=st.characters(codec="ascii"), max_size=300),
        st.builds(lambda a, b: f"{a}.{b}", st.text(max_size=80), st.text(max_size=80)),
        st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    )
)
def test_verify_never_raises_anything_but_unauthorized(token: str) -> None:
    _verify_raises_only_unauthorized(token)


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200).map(_b64),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
            lambda kids: (
                st.lists(kids, max_size=4)
                | st.dictionaries(st.sampled_from(["sub", "kind", "exp", "sid", "x"]), kids, max_size=5)
            ),
            max_leaves=20,
        ).map(lambda p: _b64(json.dumps(p).encode())),
    )
)
def test_genuinely_signed_junk_never_raises_anything_but_unauthorized(body: str) -> None:
    token = signed_body(body)
    try:
        SIGNER.verify(token, CUSTOMER, now=1000)
    except Unauthorized:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_subject_round_trips(sub: str) -> None:
    token = SIGNER.sign(sub, AGENT, now=1000, ttl=60, sid="s_1")
    assert SIGNER.verify(token, AGENT, now=1000).sub == sub
