"""Agents' login sessions: what an access token belongs to, and how it is taken back.

A login creates a session in Redis that lives ``--agent-token-hours`` (fixed: refreshing does not
extend it). The desk holds only short-lived access tokens (``--agent-access-minutes``) that name the
session (``sid``) and refreshes them while the session lives; every use of an agent token (HTTP
routes, the desk socket's hello) checks that the session still exists. So:

- **logout** revokes one session; **revoke_agent** (password change, agent removal) all of an
  agent's sessions. Both are atomic scripts (revoke_agent: one per read of the agent's session set, until
  it is empty), then a ``session_revoked`` message on the agent's
  bus channel (``P:ch:agent:ID``) makes every node close the sockets of those sessions at once
  (gateway/wire/agent_socket.py: an ``error`` frame ``session_revoked``, then close code
  :data:`~gateway.protocol.server.CloseCode.SESSION_REVOKED`, on which the desk does not reconnect).
- A token stolen from a desk is worth at most ``--agent-access-minutes`` after a logout elsewhere
  would not reach it, and nothing once the session is revoked.

Not to be confused with presence's ``P:agent:ID:sessions`` (open desk connections, gateway/contact/presence.py).

Redis keys: ``P:login:session:SID`` (hash ``agent_id``, ``created``, ``expires``, ``node``, ``address``; expires with
the session) and
``P:login:agent:ID`` (the agent's session ids scored by their expiry, for revoke_agent); gateway/store/keys.py.
Their Redis operations: gateway/store/session_store.py.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

from gateway.contact.agents import Agent, AgentDirectory
from gateway.errors import Unauthorized
from gateway.protocol.bus import SessionRevoked
from gateway.protocol.codes import ErrorCode
from gateway.store.bus import Bus
from gateway.store.session_store import SessionStore
from gateway.store.store import Store
from gateway.wire.tokens import AGENT, TokenSigner

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoginSession:
    id: str
    agent_id: str
    created_ms: int
    expires_ms: int

    def seconds_left(self, now: float) -> float:
        return max(0.0, self.expires_ms / 1000 - now)


def revoked(message: str = "your session has ended (logged out, revoked or expired); log in again") -> Unauthorized:
    return Unauthorized(message, field="token", code=ErrorCode.SESSION_REVOKED)


class LoginSessions:
    def __init__(self, store: Store, bus: Bus, *, lifetime_seconds: float, node_id: str = ""):
        self.db = SessionStore(store)
        self.keys = store.keys
        self.bus = bus
        self.lifetime_ms = int(lifetime_seconds * 1000)
        self.node_id = node_id

    async def create(self, agent_id: str, *, now: float, address: str = "") -> LoginSession:
        created = int(now * 1000)
        session = LoginSession(
            id=f"s_{secrets.token_urlsafe(18)}",
            agent_id=agent_id,
            created_ms=created,
            expires_ms=created + self.lifetime_ms,
        )
        await self.db.create(
            session.id,
            agent_id,
            created_ms=created,
            expires_ms=session.expires_ms,
            node=self.node_id,
            address=address,
        )
        return session

    async def listing(self, agent_id: str, *, now: float) -> list[dict[str, Any]]:
        """Who is logged in where: the agent's live sessions, oldest first, ``{"node", "since" (ms), "address"}``."""
        sids = await self.sessions_of(agent_id, now=now)
        return [
            {"node": row.get("node", ""), "since": int(row.get("created", 0)), "address": row.get("address", "")}
            for row in await self.db.details(sids)
            if row.get("agent_id") == agent_id
        ]

    async def revoke_others(self, agent_id: str, keep: str, *, reason: str, now: float) -> int:
        """End every session of the agent but ``keep`` (their own password changed from that one)."""
        ended = 0
        for sid in await self.sessions_of(agent_id, now=now):
            if sid != keep and await self.revoke(sid, reason=reason):
                ended += 1
        return ended

    async def check(self, sid: str, agent_id: str) -> LoginSession:
        """The live session ``sid`` of ``agent_id``, or Unauthorized ``session_revoked``."""
        if not sid:
            raise revoked("this token belongs to no session (issued before sessions existed); log in again")
        values = await self.db.get(sid)
        if values.get("agent_id") != agent_id:
            raise revoked()
        return LoginSession(
            id=sid, agent_id=agent_id, created_ms=int(values["created"]), expires_ms=int(values["expires"])
        )

    async def sessions_of(self, agent_id: str, *, now: float) -> list[str]:
        """Ids of the agent's sessions that have not expired (oldest first)."""
        return await self.db.live(agent_id, now_ms=int(now * 1000))

    async def revoke(self, sid: str, *, reason: str = "logout") -> bool:
        """End one session (logout) on every node; False when it had already ended."""
        agent_id = await self.db.revoke(sid)
        if not agent_id:
            return False
        await self._announce(agent_id, [sid], reason)
        log.info("login session revoked (%s)", reason, extra={"agent_id": agent_id})
        return True

    async def revoke_agent(self, agent_id: str, *, reason: str = "revoked") -> int:
        """End every session of the agent (password changed, agent removed) on every node; how many ended."""
        sids = await self.db.revoke_all(agent_id)
        if sids:
            await self._announce(agent_id, sids, reason)
        log.info("all %d login sessions of the agent revoked (%s)", len(sids), reason, extra={"agent_id": agent_id})
        return len(sids)

    async def _announce(self, agent_id: str, sids: list[str], reason: str) -> None:
        await self.bus.publish(self.keys.agent_channel(agent_id), SessionRevoked(sids, reason))


def access_token(signer: TokenSigner, session: LoginSession, *, now: float, minutes: float) -> dict[str, Any]:
    """A fresh access token of ``session`` (never outliving it) as the login and refresh routes return it."""
    ttl = min(minutes * 60, session.seconds_left(now))
    return {
        "token": signer.sign(session.agent_id, AGENT, now=now, ttl=ttl, sid=session.id),
        "expires_in": int(ttl),
        "session_expires_at": session.expires_ms // 1000,
    }


async def authenticate(
    token: object,
    *,
    signer: TokenSigner,
    sessions: LoginSessions,
    directory: AgentDirectory,
    now: float,
    grace: float = 0.0,
) -> tuple[Agent, LoginSession]:
    """The agent and live session an access token stands for; Unauthorized (``token_expired``,
    ``session_revoked``, ...) otherwise. Every use of an agent token goes through here."""
    claims = signer.verify(token, AGENT, now=now, grace=grace)
    agent = await directory.lookup(claims.sub)  # this node's copy; the store's for an agent added a moment ago
    if agent is None:
        raise Unauthorized(f"agent '{claims.sub}' no longer exists", field="token")
    if agent.disabled:
        raise revoked("this agent is disabled")
    return agent, await sessions.check(claims.sid, agent.id)
