import pytest

from gateway.errors import Unauthorized
from gateway.tokens import AGENT, CUSTOMER, TokenSigner

SIGNER = TokenSigner(b"0123456789abcdef0123")


def test_round_trip() -> None:
    token = SIGNER.sign("u_1", CUSTOMER, now=1000, ttl=60)
    claims = SIGNER.verify(token, CUSTOMER, now=1059)
    assert (claims.sub, claims.kind, claims.exp) == ("u_1", CUSTOMER, 1060)


@pytest.mark.parametrize("mangle, code, words", [
    (lambda t: t.replace(".", ""), "unauthorized", "malformed"),
    (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "unauthorized", "signature"),
    (lambda t: "eyJzdWIiOiJ1XzIiLCJraW5kIjoiY3VzdG9tZXIiLCJleHAiOjk5OTk5OTk5OTl9." + t.split(".")[1],
     "unauthorized", "signature"),
    (lambda t: "", "unauthorized", "malformed"),
])
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


def test_customer_token_is_not_an_agent_token() -> None:
    token = SIGNER.sign("alice", CUSTOMER, now=1000, ttl=60)
    with pytest.raises(Unauthorized, match="customer token, not a agent token"):
        SIGNER.verify(token, AGENT, now=1000)


def test_other_secret_cannot_verify() -> None:
    token = TokenSigner(b"another-secret-of-16+").sign("u_1", CUSTOMER, now=1000, ttl=60)
    with pytest.raises(Unauthorized, match="signature"):
        SIGNER.verify(token, CUSTOMER, now=1000)
