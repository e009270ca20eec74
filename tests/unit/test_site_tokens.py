"""Customer tokens signed by a site's backend (compact JWT, HS256): verification is strict and total."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import Unauthorized
from gateway.wire.site_tokens import SiteKeys, sign, verified_customer_id

SECRET = "shop-secret-0123456789abcdef0123456789"
OTHER = "blog-secret-0123456789abcdef0123456789"
NOW = 1_800_000_000
KEYS = SiteKeys((("shop", SECRET), ("blog", OTHER)))


def claims(**extra: object) -> dict[str, object]:
    return {"sub": "crm-4711", "name": "Ann", "tier": "gold", "exp": NOW + 600, **extra}


def test_a_signed_token_gives_verified_variables_and_a_stable_customer_id() -> None:
    verified = KEYS.verify(sign(claims(vip=True, score=3), SECRET, kid="shop"), now=NOW)
    assert verified.variables() == {
        "verified.sub": "crm-4711",
        "verified.name": "Ann",
        "verified.tier": "gold",
        "verified.vip": "true",
        "verified.score": "3",
    }
    again = KEYS.verify(sign(claims(), SECRET, kid="shop"), now=NOW + 5)
    assert verified_customer_id(verified) == verified_customer_id(again)
    other_site = KEYS.verify(sign(claims(), OTHER, kid="blog"), now=NOW)
    assert verified_customer_id(other_site) != verified_customer_id(verified)  # one site cannot claim another's user


def test_one_key_needs_no_key_id() -> None:
    single = SiteKeys((("default", SECRET),))
    assert single.verify(sign(claims(), SECRET), now=NOW).subject == "crm-4711"


def _tamper_payload(token: str, **changes: object) -> str:
    head, body, mac = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return f"{head}.{forged}.{mac}"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (sign(claims(), OTHER, kid="shop"), "signature is invalid"),
        (_tamper_payload(sign(claims(), SECRET, kid="shop"), tier="platinum"), "signature is invalid"),
        (sign(claims(exp=NOW - 120), SECRET, kid="shop"), "has expired"),
        (sign({"sub": "x"}, SECRET, kid="shop"), "has no 'exp'"),
        (sign(claims(sub=""), SECRET, kid="shop"), "has no 'sub'"),
        (sign(claims(), SECRET, kid="nope"), "unknown key id"),
        (sign(claims(), SECRET), "unknown key id"),  # two keys: the token must say which
        (sign(claims(nested={"a": 1}), SECRET, kid="shop"), "claim 'nested' must be"),
        (sign(claims(Tier="x"), SECRET, kid="shop"), "claim name 'Tier'"),
        (sign(claims(name="a\u0000b"), SECRET, kid="shop"), "control characters"),
        ("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.", "malformed"),
        ("x.y", "malformed"),
    ],
)
def test_bad_tokens_are_refused_with_the_reason(token: str, reason: str) -> None:
    with pytest.raises(Unauthorized) as info:
        KEYS.verify(token, now=NOW)
    assert reason in info.value.message
    assert info.value.code == "customer_token_invalid" and info.value.field == "customer_token"


def test_alg_none_is_refused() -> None:
    head = base64.urlsafe_b64encode(b'{"alg":"none","kid":"shop"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized, match="HS256"):
        KEYS.verify(f"{head}.{body}.AAAA", now=NOW)


def test_without_site_keys_nothing_verifies() -> None:
    with pytest.raises(Unauthorized, match="no site keys"):
        SiteKeys(()).verify(sign(claims(), SECRET), now=NOW)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300) | st.from_regex(r"[A-Za-z0-9_-]{0,40}\.[A-Za-z0-9_-]{0,60}\.[A-Za-z0-9_-]{0,50}"))
def test_any_input_is_claims_or_unauthorized(token: str) -> None:
    try:
        KEYS.verify(token, now=NOW)
    except Unauthorized:
        pass
