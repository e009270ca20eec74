"""Signed, expiring bearer tokens for customers and agents.

Format: ``base64url(json payload) + "." + base64url(HMAC-SHA256(secret, payload))``.
The payload holds ``sub`` (customer or agent id), ``kind`` and ``exp`` (epoch
seconds). Verification is constant-time and reports *why* a token fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

from .errors import Unauthorized

CUSTOMER = "customer"
AGENT = "agent"


@dataclass(frozen=True, slots=True)
class Claims:
    sub: str
    kind: str
    exp: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    def __init__(self, secret: bytes):
        if len(secret) < 16:
            raise ValueError("token secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())

    def sign(self, sub: str, kind: str, *, now: float, ttl: float) -> str:
        payload = {"sub": sub, "kind": kind, "exp": int(now + ttl)}
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def verify(self, token: str, kind: str, *, now: float) -> Claims:
        body, sep, mac = token.partition(".")
        if not sep or not body or not mac:
            raise Unauthorized("token is malformed", field="token")
        if not hmac.compare_digest(mac, self._mac(body)):
            raise Unauthorized("token signature is invalid", field="token")
        try:
            payload = json.loads(_unb64(body))
            claims = Claims(sub=str(payload["sub"]), kind=str(payload["kind"]), exp=int(payload["exp"]))
        except (ValueError, KeyError, TypeError):
            raise Unauthorized("token payload is malformed", field="token") from None
        if claims.kind != kind:
            raise Unauthorized(f"token is a {claims.kind} token, not a {kind} token", field="token")
        if claims.exp < now:
            raise Unauthorized("token has expired", field="token", code="token_expired")
        return claims
