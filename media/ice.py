"""ICE servers for one call: STUN URLs and TURN credentials made with the TURN REST API convention.

A TURN server (coturn with ``use-auth-secret`` / ``static-auth-secret``, and most others) shares one secret
with the gateway and accepts any username of the form ``expiry:id`` whose password is
``base64(HMAC-SHA1(secret, username))``, until ``expiry`` (Unix seconds) has passed
(draft-uberti-behave-turn-rest). The gateway makes a pair for a page's welcome (a customer's or an agent's, kept
and given again while half its lifetime is left: gateway/contact/limits.py), for each call a page is about to offer
(``call_ice``: bound to that call, valid for the longest call) and for each of its own call legs, so no page ever
holds a lasting password; a stolen pair stops working at its expiry.

Pure: the time is an argument (no clock read here), so the format and the expiry are unit-tested.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from aiortc import RTCIceServer


@dataclass(frozen=True, slots=True)
class IceServer:
    """One entry of ``RTCPeerConnection({iceServers})``: URLs, and for TURN a username and credential."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The browser's ``RTCIceServer`` dictionary."""
        out: dict[str, Any] = {"urls": list(self.urls)}
        if self.username is not None:
            out["username"] = self.username
            out["credential"] = self.credential
        return out

    def rtc(self) -> RTCIceServer:
        """aiortc's equivalent."""
        return RTCIceServer(urls=list(self.urls), username=self.username, credential=self.credential)


def turn_password(secret: str, username: str) -> str:
    """The TURN REST API password of ``username``: base64 of HMAC-SHA1 keyed with the shared secret."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def turn_username(expires_at: int, user: str) -> str:
    """``expiry:id``. The id may not hold ':' (coturn reads the expiry up to the first one)."""
    return f"{expires_at}:{user.replace(':', '_')}"


def username_expiry(username: str) -> int:
    """The expiry (Unix seconds) a TURN REST API username carries. ValueError when it carries none."""
    stamp, sep, _ = username.partition(":")
    if not sep or not stamp.isdigit():
        raise ValueError(f"not a TURN REST API username (expiry:id): {username!r}")
    return int(stamp)


@dataclass(frozen=True, slots=True)
class TurnCredentials:
    """Makes time-limited TURN credentials from the secret shared with the TURN server."""

    secret: str
    urls: tuple[str, ...]
    ttl_seconds: int
    call_ttl_seconds: int = 4 * 3600  # a pair made for one call: the longest call

    def issue(self, user: str, now: float, ttl_seconds: int | None = None) -> IceServer:
        """A TURN server entry for ``user`` (a customer, an agent, a call leg), valid ``ttl_seconds`` (the
        socket's lifetime unless given) from ``now``."""
        username = turn_username(int(now) + (self.ttl_seconds if ttl_seconds is None else ttl_seconds), user)
        return self.pair(username)

    def pair(self, username: str) -> IceServer:
        """The TURN server entry of a username made before (its password is the secret's HMAC of it)."""
        return IceServer(urls=self.urls, username=username, credential=turn_password(self.secret, username))


def valid_at(secret: str, username: str, credential: str, now: float) -> bool:
    """What the TURN server checks: the password is this username's and its expiry has not passed."""
    try:
        expires_at = username_expiry(username)
    except ValueError:
        return False
    return hmac.compare_digest(turn_password(secret, username), credential) and now <= expires_at


@dataclass(frozen=True, slots=True)
class IceConfig:
    """The node's ICE servers: plain URLs (``--ice-servers``: STUN, or TURN with its own credentials) for its
    legs, and TURN REST API credentials (``--turn-urls`` / ``--turn-secret``) for its legs and the pages."""

    urls: tuple[str, ...] = ()
    turn: TurnCredentials | None = None

    def for_leg(self, name: str, now: float) -> list[IceServer]:
        """What one of the gateway's call legs uses (a fresh TURN pair each)."""
        out = [IceServer(urls=(url,)) for url in self.urls]
        if self.turn is not None:
            out.append(self.turn.issue(f"gateway-{name}", now))
        return out

    def for_call(self, user: str, call_id: str, now: float) -> list[dict[str, Any]]:
        """What a page's ``call_ice`` carries for the call ``call_id`` it is about to offer: a TURN entry bound to
        that call and ``user`` (``expiry:call-ID-user``), valid for the longest call (``call_ttl_seconds``);
        [] without ``--turn-urls``."""
        if self.turn is None:
            return []
        return [self.turn.issue(f"call-{call_id}-{user}", now, self.turn.call_ttl_seconds).to_json()]
