"""Managing agents: every write to the directory with what must go with it, for the admin API and the CLI alike.

- **add**: the fields checked one by one (a refusal names the field, nothing stored), the password by the rules of
  gateway/contact/password_rules.py and hashed; an id that exists is 409 naming ``id``.
- **disable / remove**: the directory first (no new login from then on, on any node: a login reads the store),
  then every login session of the agent ends on every node (their desks close at once, their tokens refused).
- **roles taken away** (an edit whose roles lack one the agent had): their sessions end the same way. An open desk
  was given what its roles allowed (the wallboard, listening in) and its page shows what the login answered; a new
  login gets both right. Every node also ends the calls' monitors of a supervisor who lost the role
  (gateway/calls/commands.py), which a closed desk would not end by itself.
- **reset password** (an admin): a one-time password: stored with ``must_change_password``, the agent's sessions
  end, and their next login answers 403 ``password_change_required`` until they change it
  (:meth:`AgentAdmin.change_own`).
- **change own password** (any agent): the current one checked, the new one by the rules; the agent's other
  sessions end.

Each write is one audit entry (gateway/contact/audit.py): actor, ``agent.add`` / ``agent.update`` /
``agent.disable`` / ``agent.enable`` / ``agent.remove`` / ``agent.password_reset`` / ``agent.password_change`` /
``agent.import``, the agent's public fields before and after (never a password or its hash).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from gateway.contact.agents import (
    Agent,
    AgentDirectory,
    check_capacity,
    check_id,
    check_name,
    check_roles,
    check_skills,
    edited,
)
from gateway.contact.agents_file import load_agents
from gateway.contact.audit import AuditLog
from gateway.contact.password_rules import check_password
from gateway.contact.passwords import hash_password, verify_password
from gateway.contact.routing import Skills
from gateway.errors import BadRequest, Unauthorized
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import Role
from gateway.wire.sessions import LoginSessions

log = logging.getLogger(__name__)

EDITABLE = ("name", "capacity", "skills", "roles", "disabled")
DEMO_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)


def _now_ms() -> int:
    return int(time.time() * 1000)


def _skills(value: object) -> tuple[tuple[str, int], ...]:
    """Skills as the API takes them: an object ``{"billing": 3}`` only."""
    if not isinstance(value, dict):
        raise BadRequest(
            "'skills' is an object like {\"billing\": 3} (levels 1-10)", field="skills", code=ErrorCode.BAD_FIELD
        )
    return check_skills(value)


def check_changes(body: dict[str, Any]) -> dict[str, Any]:
    """The fields of an edit, each checked (400 naming it); anything else in the body is refused."""
    unknown = sorted(set(body) - set(EDITABLE))
    if unknown:
        raise BadRequest(f"'{unknown[0][:40]}' cannot be changed here", field=unknown[0][:40], code=ErrorCode.BAD_FIELD)
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = check_name(body["name"])
    if "capacity" in body:
        changes["capacity"] = check_capacity(body["capacity"])
    if "skills" in body:
        changes["skills"] = _skills(body["skills"])
    if "roles" in body:
        changes["roles"] = check_roles(body["roles"])
    if "disabled" in body:
        if not isinstance(body["disabled"], bool):
            raise BadRequest("'disabled' is true or false", field="disabled", code=ErrorCode.BAD_FIELD)
        changes["disabled"] = body["disabled"]
    return changes


Release = Callable[[str, str], Awaitable[list[str]]]  # (agent id, reason) -> the chats put back in the queue


class AgentAdmin:
    def __init__(
        self, directory: AgentDirectory, sessions: LoginSessions, audit: AuditLog, release: Release | None = None
    ):
        self.directory = directory
        self.sessions = sessions
        self.audit = audit
        # a node's :meth:`Handover.release_agent`: a disabled or removed agent's chats go back to the queue
        # (None: the ``agents`` command, which runs no routing; the nodes' sweep of absent agents releases them
        # within seconds, gateway/contact/absent_agents.py)
        self.release = release

    async def add(
        self,
        actor: str,
        *,
        agent_id: object,
        password: object,
        name: object = None,
        capacity: object = 3,
        skills: object = None,
        roles: object = None,
        one_time: bool = False,
    ) -> Agent:
        """A new agent, every field checked first (nothing stored on a refusal)."""
        aid = check_id(agent_id)
        agent = Agent(
            id=aid,
            name=check_name(aid if name is None else name),
            password_hash="",
            capacity=check_capacity(capacity),
            roles=check_roles([Role.AGENT.value] if roles is None else roles),
            skills=_skills({} if skills is None else skills),
            must_change_password=one_time,
            created_at=_now_ms(),
            updated_at=_now_ms(),
        )
        plain = check_password(password, agent_id=aid)
        agent = edited(agent, agent.updated_at, password_hash=await asyncio.to_thread(hash_password, plain))
        await self.directory.add(agent)
        await self.audit.record(actor, "agent.add", aid, None, agent.public())
        log.info("agent added by %s", actor, extra={"agent_id": aid})
        return agent

    async def update(self, actor: str, agent_id: str, body: dict[str, Any]) -> Agent:
        """Edit name, capacity, skills, roles, disabled; disabling ends the agent's sessions on every node."""
        changes = check_changes(body)
        before, after = await self.directory.change(agent_id, lambda a: edited(a, _now_ms(), **changes))
        if after.disabled:
            await self.sessions.revoke_agent(agent_id, reason="agent_disabled")
            if self.release is not None and not before.disabled:
                await self.release(agent_id, "agent_disabled")
        elif set(before.roles) - set(after.roles):
            await self.sessions.revoke_agent(agent_id, reason="roles_changed")
        action = "agent.update"
        if before.disabled != after.disabled:
            action = "agent.disable" if after.disabled else "agent.enable"
        await self.audit.record(actor, action, agent_id, before.public(), after.public())
        return after

    async def remove(self, actor: str, agent_id: str) -> Agent:
        """Take the agent out of the directory, then end their sessions on every node."""
        before = await self.directory.remove(agent_id)
        await self.sessions.revoke_agent(agent_id, reason="agent_removed")
        if self.release is not None:
            await self.release(agent_id, "agent_removed")
        await self.audit.record(actor, "agent.remove", agent_id, before.public(), None)
        log.info("agent removed by %s", actor, extra={"agent_id": agent_id})
        return before

    async def reset_password(self, actor: str, agent_id: str, password: object, *, one_time: bool = True) -> Agent:
        """A new password set by someone else (an admin: ``one_time``, the agent must change it at their next
        login; the operator's CLI: as given); the agent's sessions end on every node."""
        plain = check_password(password, agent_id=agent_id)
        hashed = await asyncio.to_thread(hash_password, plain)
        before, after = await self.directory.change(
            agent_id, lambda a: edited(a, _now_ms(), password_hash=hashed, must_change_password=one_time)
        )
        await self.sessions.revoke_agent(agent_id, reason="password_changed")
        await self.audit.record(actor, "agent.password_reset", agent_id, before.public(), after.public())
        return after

    async def change_own(self, agent_id: str, current: str, new: object, *, keep_session: str = "") -> Agent:
        """The agent changes their own password: 401 if ``current`` is wrong, 400 ``weak_password`` (field
        ``new``) if the new one will not do or is the current one. Their other sessions end."""
        agent = await self.directory.fetch(agent_id)
        stored = agent.password_hash if agent is not None else hash_password(secrets.token_hex(8), n=2**14)
        ok = await asyncio.to_thread(verify_password, current, stored)
        if agent is None or not ok or agent.disabled:
            raise Unauthorized("unknown agent or wrong password", field="current")
        plain = check_password(new, field="new", agent_id=agent_id)
        if plain == current:
            raise BadRequest(
                "the new password must differ from the current one", field="new", code=ErrorCode.WEAK_PASSWORD
            )
        hashed = await asyncio.to_thread(hash_password, plain)
        before, after = await self.directory.change(
            agent_id, lambda a: edited(a, _now_ms(), password_hash=hashed, must_change_password=False)
        )
        now = time.time()
        if keep_session:
            await self.sessions.revoke_others(agent_id, keep_session, reason="password_changed", now=now)
        else:
            await self.sessions.revoke_agent(agent_id, reason="password_changed")
        await self.audit.record(agent_id, "agent.password_change", agent_id, before.public(), after.public())
        return after

    async def import_agents(self, actor: str, agents: Iterable[Agent], *, replace_existing: bool) -> int:
        """Agents from a file, all or none; one that existed and was replaced loses its sessions."""
        agents = list(agents)
        stored, replaced = await self.directory.import_agents(agents, replace_existing=replace_existing)
        for agent_id in replaced:
            await self.sessions.revoke_agent(agent_id, reason="password_changed")
        for agent in agents:
            await self.audit.record(actor, "agent.import", agent.id, None, agent.public())
        return stored

    async def seed(self, agents_file: Path | None, *, demo_skills: Skills = ()) -> tuple[str, int, str | None]:
        """The first start: an empty directory gets the agents of ``agents_file`` (a path, if it exists) or a
        ``demo`` admin with ``demo_skills``. (what happened: 'imported' / 'demo' / '', how many, the demo's password
        or None)."""
        if await self.directory.db.count() > 0:
            return "", 0, None
        if agents_file is not None and agents_file.exists():
            agents = list((await asyncio.to_thread(load_agents, agents_file)).values())
            stored = await self.directory.seed(agents)
            if stored:
                for agent in agents:
                    await self.audit.record("system", "agent.import", agent.id, None, agent.public())
            return ("imported" if stored else ""), stored, None
        password = secrets.token_urlsafe(12)
        now = _now_ms()
        demo = Agent(
            "demo",
            "Demo Admin",
            await asyncio.to_thread(hash_password, password),
            capacity=3,
            skills=demo_skills,
            roles=tuple(r.value for r in DEMO_ROLES),
            created_at=now,
            updated_at=now,
        )
        if not await self.directory.seed([demo]):
            return "", 0, None  # another node seeded it first
        await self.audit.record("system", "agent.add", "demo", None, demo.public())
        return "demo", 1, password
