"""Signed, expiring bearer tokens for customers and agents.

Format: ``base64url(json payload) + "." + base64url(HMAC-SHA256(secret, payload))``.
The payload holds ``sub`` (customer or agent id), ``kind`` and ``exp`` (epoch
seconds); an agent's access token also holds ``sid``, the login session it
belongs to (gateway/wire/sessions.py), so revoking the session ends the token.

Several secrets may verify (rotation: ``--secret new,old``): the first signs,
every one verifies. Verification is constant-time per secret and *total*: any
string at all (non-ASCII, huge, bad base64, a payload that is not a JSON
object, odd claims) is refused with :class:`~gateway.errors.Unauthorized`
saying why, never another exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.errors import Unauthorized
from gateway.protocol.codes import ErrorCode

CUSTOMER = "customer"
AGENT = "agent"

MAX_TOKEN_CHARS = 2048  # the socket's hello accepts no longer token either (gateway/protocol/client.py)
MIN_SECRET_BYTES = 16
_MAX_CLAIM_CHARS = 256
_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True)
class Claims:
    sub: str
    kind: str
    exp: int
    sid: str = ""  # login session of an agent access token; "" for customer tokens


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _malformed(what: str) -> Unauthorized:
    return Unauthorized(f"token {what}", field="token")


def _claim_str(payload: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = payload.get(name, None if required else "")
    if not isinstance(value, str) or (required and not value) or len(value) > _MAX_CLAIM_CHARS:
        raise _malformed(f"payload is malformed ('{name}')")
    return value


class TokenSigner:
    """Signs with ``secrets[0]``; verifies with any of ``secrets`` (newest first)."""

    def __init__(self, secrets: Sequence[bytes]):
        if isinstance(secrets, (bytes, bytearray, str)):
            raise TypeError("TokenSigner takes a list of secrets (the first signs), not one secret")
        if not secrets:
            raise ValueError("TokenSigner needs at least one secret")
        for secret in secrets:
            if len(secret) < MIN_SECRET_BYTES:
                raise ValueError(f"token secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secrets = tuple(bytes(s) for s in secrets)

    @staticmethod
    def _mac(secret: bytes, body: str) -> bytes:
        return _b64(hmac.new(secret, body.encode("ascii"), hashlib.sha256).digest()).encode("ascii")

    def sign(self, sub: str, kind: str, *, now: float, ttl: float, sid: str = "") -> str:
        payload: dict[str, Any] = {"sub": sub, "kind": kind, "exp": int(now + ttl)}
        if sid:
            payload["sid"] = sid
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._mac(self._secrets[0], body).decode()}"

    def verify(self, token: object, kind: str, *, now: float, grace: float = 0.0) -> Claims:
        """The token's claims, or :class:`Unauthorized` (``token_expired`` when only the time is wrong).

        ``grace``: accept a genuine token up to this many seconds past its ``exp`` (refreshing after a laptop slept
        or a background tab's timers were throttled; ``math.inf`` to log out with a stale token)."""
        if not isinstance(token, str) or not token:
            raise _malformed("is malformed")
        if len(token) > MAX_TOKEN_CHARS:
            raise _malformed("is malformed (too long)")
        body, sep, mac = token.partition(".")
        if not sep or not body or not mac or not _B64_CHARS.issuperset(body) or not _B64_CHARS.issuperset(mac):
            raise _malformed("is malformed")
        given = mac.encode("ascii")
        matched = False
        for secret in self._secrets:  # every one, so the time does not say which secret matched
            matched |= hmac.compare_digest(given, self._mac(secret, body))
        if not matched:
            raise Unauthorized("token signature is invalid", field="token")
        claims = self._claims(body)
        if claims.kind != kind:
            raise Unauthorized(f"token is a {claims.kind} token, not a {kind} token", field="token")
        if claims.exp + grace < now:
            raise Unauthorized("token has expired", field="token", code=ErrorCode.TOKEN_EXPIRED)
        return claims

    @staticmethod
    def _claims(body: str) -> Claims:
        """Only ever called on a body we signed, but parsed as if it were anyone's."""
        try:
            payload = json.loads(_unb64(body))
        except (ValueError, binascii.Error, RecursionError):  # UnicodeDecodeError is a ValueError
            raise _malformed("payload is malformed") from None
        if not isinstance(payload, dict):
            raise _malformed("payload is malformed (not an object)")
        exp = payload.get("exp")
        if not isinstance(exp, int) or isinstance(exp, bool) or not 0 <= exp < 2**53:
            raise _malformed("payload is malformed ('exp')")
        return Claims(
            sub=_claim_str(payload, "sub"),
            kind=_claim_str(payload, "kind"),
            exp=exp,
            sid=_claim_str(payload, "sid", required=False),
        )
