"""Verified customers: a token the website's backend signs to vouch for who the customer is.

What the browser sends of its own (``hello.context``: the page, its title) is the
customer's word: shown to agents, usable in prompts, never trusted for routing,
priority, skills or URLs. A site that knows its customer (a logged-in user id,
name, tier, CRM id) signs those facts on its server with a secret it shares with
the gateway, and the page passes the result on (``data-customer-token`` on the
widget's script tag). Verified claims become the flow variables ``verified.<claim>``;
browser context becomes ``context.<key>``. Flows route on the former.

The token is a compact JWT, HS256 (RFC 7519), so any JWT library signs it::

    header  {"alg": "HS256", "typ": "JWT", "kid": "shop"}     kid: which site key (optional with one key)
    payload {"sub": "crm-4711", "name": "Ann", "tier": "gold", "exp": 1767225600}

``sub`` (the site's user id) and ``exp`` (epoch seconds) are required; other
claims are short strings, numbers or booleans. Verification is total: any input
yields claims or :class:`~gateway.errors.Unauthorized` with the reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.errors import Unauthorized
from gateway.protocol.codes import ErrorCode

MAX_TOKEN_CHARS = 4096
MAX_CLAIMS = 20
MAX_CLAIM_CHARS = 500
LEEWAY_SECONDS = 60
CLAIM_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
#: Registered JWT claims that describe the token, not the customer: never flow variables.
_META = frozenset({"exp", "iat", "nbf", "iss", "aud", "jti"})


@dataclass(frozen=True, slots=True)
class VerifiedCustomer:
    site: str  # the key id that verified it
    subject: str  # the site's id of this customer
    claims: Mapping[str, str]  # claim -> text, including 'sub'
    expires: float = 0.0  # the token's 'exp' (epoch seconds): the site vouches until then

    def variables(self) -> dict[str, str]:
        """The flow variables these claims set: ``verified.<claim>``."""
        return {f"verified.{name}": value for name, value in self.claims.items()}


def _fail(reason: str) -> Unauthorized:
    return Unauthorized(f"customer token {reason}", field="customer_token", code=ErrorCode.CUSTOMER_TOKEN_INVALID)


def _unb64(part: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]*", part):
        raise _fail("is not base64url")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise _fail("is not base64url") from None


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_unb64(part))
    except (ValueError, RecursionError):
        raise _fail(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise _fail(f"{what} is not a JSON object")
    return value


def _claim_text(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        if len(value) > MAX_CLAIM_CHARS or any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise _fail(f"claim '{name}' is over {MAX_CLAIM_CHARS} characters or holds control characters")
        return value
    raise _fail(f"claim '{name}' must be a string, a number or a boolean")


class SiteKeys:
    """The secrets sites sign customer tokens with, by key id."""

    def __init__(self, keys: tuple[tuple[str, str], ...]):
        self._keys = {kid: secret.encode() for kid, secret in keys}

    def __bool__(self) -> bool:
        return bool(self._keys)

    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def verify(self, token: str, *, now: float) -> VerifiedCustomer:
        if not self._keys:
            raise _fail("cannot be checked: this gateway has no site keys (--site-keys)")
        if len(token) > MAX_TOKEN_CHARS or not token.isascii():
            raise _fail("is malformed")
        parts = token.split(".")
        if len(parts) != 3 or not all(parts):
            raise _fail("is malformed (a JWT has three parts)")
        header = _json_object(parts[0], "header")
        if header.get("alg") != "HS256":
            raise _fail(f"must be signed with HS256, not {str(header.get('alg'))[:20]!r}")
        kid = header.get("kid")
        if kid is None and len(self._keys) == 1:
            kid = next(iter(self._keys))
        secret = self._keys.get(kid) if isinstance(kid, str) else None
        if secret is None:
            raise _fail(f"names an unknown key id {str(kid)[:40]!r}")
        expected = hmac.new(secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(parts[2])):
            raise _fail("signature is invalid")
        payload = _json_object(parts[1], "payload")
        exp = payload.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise _fail("has no 'exp' (expiry, epoch seconds)")
        if exp + LEEWAY_SECONDS < now:
            raise _fail("has expired")
        nbf = payload.get("nbf")
        if isinstance(nbf, (int, float)) and not isinstance(nbf, bool) and nbf - LEEWAY_SECONDS > now:
            raise _fail("is not valid yet")
        claims = {k: v for k, v in payload.items() if k not in _META}
        if len(claims) > MAX_CLAIMS:
            raise _fail(f"has {len(claims)} claims; the limit is {MAX_CLAIMS}")
        out: dict[str, str] = {}
        for name, value in claims.items():
            if not CLAIM_NAME.fullmatch(name):
                raise _fail(f"claim name {name[:40]!r} must be lower_case letters, digits and _")
            out[name] = _claim_text(name, value)
        if not out.get("sub"):
            raise _fail("has no 'sub' (the site's id of the customer)")
        return VerifiedCustomer(site=kid, subject=out["sub"], claims=out, expires=float(exp))  # type: ignore[arg-type]


def verified_customer_id(verified: VerifiedCustomer) -> str:
    """The gateway's customer id for a site's user: stable, so their conversation follows them across devices."""
    return site_user_id(verified.site, verified.subject)


def site_user_id(site: str, subject: str) -> str:
    """The customer id a site's user (its key id, its ``sub``) has here (an admin looks them up by these)."""
    digest = hashlib.sha256(f"{site}\0{subject}".encode()).hexdigest()
    return "v_" + digest[:16]


def is_verified_id(customer_id: str) -> bool:
    """A customer id made by :func:`verified_customer_id`: only a valid site token may speak for it."""
    return customer_id.startswith("v_")


def sign(claims: Mapping[str, Any], secret: str, *, kid: str | None = None) -> str:
    """Make a customer token as a site's backend would (tests, examples, the demo page)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header: dict[str, str] = {"alg": "HS256", "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    signing_input = (
        b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64(json.dumps(dict(claims), separators=(",", ":")).encode())
    )
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"
