"""The agents directory: who may log in to the agent desk, with hashed passwords, kept in Redis.

Every node and the CLI (``contact-gateway agents ...``) read and write the same directory (``P:accounts``,
gateway/store/account_store.py), so an agent added, edited, disabled or removed anywhere counts everywhere at once,
without a restart. Each node keeps a copy (:attr:`AgentDirectory.agents`) for the hot paths (an access token's
agent, the desk's names); a change is announced on the bus (``P:ch:accounts``, :class:`~gateway.protocol.bus.
AgentChanged`) and every node reads that agent again. A login and a token whose agent this node does not know yet
read the store itself (:meth:`AgentDirectory.fetch`), so a login on node B right after an add on node A works even
before the announcement arrives. Ending an agent's sessions (disabled, removed, new password) is the edge's
part (gateway/wire/agent_admin.py); what is stored here never holds a plain-text password.

The TOML file of earlier versions is an import/export now (gateway/contact/agents_file.py); an empty directory is
seeded from it once at the first start (or gets a ``demo`` admin).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from gateway.contact.routing import MAX_SKILL_LEVEL, parse_skills, skills_object_problem
from gateway.errors import BadRequest, Conflict, NotFound
from gateway.protocol.bus import AgentChanged, Message
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import Role
from gateway.store.account_store import AccountStore
from gateway.store.bus import Bus
from gateway.store.store import Store, StoreError
from gateway.tasks import cancel_and_wait

log = logging.getLogger(__name__)

AGENT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
MAX_CAPACITY = 50
MAX_NAME = 80
MAX_SKILLS = 32
SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.ADMIN)
SWAP_ROUNDS = 20  # a compare-and-set that keeps losing to other writers gives up (409) after this many reads


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    name: str
    password_hash: str
    capacity: int = 3
    roles: tuple[str, ...] = (Role.AGENT,)
    skills: tuple[tuple[str, int], ...] = ()  # (skill, level 1-10), see gateway.contact.routing
    disabled: bool = False  # an admin disabled the agent: no login, every session ended
    must_change_password: bool = False  # a one-time password an admin set: changed before the next login
    created_at: int = 0  # ms
    updated_at: int = 0  # ms

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def supervises(self) -> bool:
        """Supervisors and admins: the wallboard, listening to / whispering into / barging into calls."""
        return any(role in SUPERVISOR_ROLES for role in self.roles)

    def public(self) -> dict[str, Any]:
        """What the admin API and the audit log show of the agent: everything but the password's hash."""
        return {
            "id": self.id,
            "name": self.name,
            "capacity": self.capacity,
            "skills": dict(self.skills),
            "roles": list(self.roles),
            "disabled": self.disabled,
            "must_change_password": self.must_change_password,
        }


def to_json(agent: Agent) -> str:
    data = agent.public()
    del data["id"]
    data.update(password=agent.password_hash, created_at=agent.created_at, updated_at=agent.updated_at)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def from_json(agent_id: str, text: str) -> Agent:
    data = json.loads(text)
    return Agent(
        id=agent_id,
        name=str(data.get("name", agent_id)),
        password_hash=str(data.get("password", "")),
        capacity=int(data.get("capacity", 3)),
        roles=tuple(str(r) for r in data.get("roles", [Role.AGENT])),
        skills=tuple((str(k), int(v)) for k, v in dict(data.get("skills", {})).items()),
        disabled=bool(data.get("disabled", False)),
        must_change_password=bool(data.get("must_change_password", False)),
        created_at=int(data.get("created_at", 0)),
        updated_at=int(data.get("updated_at", 0)),
    )


# ---- the rules of each field (the admin API, the CLI and an imported file all go through these)


def _bad(message: str, name: str) -> BadRequest:
    return BadRequest(message, field=name, code=ErrorCode.BAD_FIELD)


def check_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise BadRequest("'id' is required", field="id", code=ErrorCode.MISSING_FIELD)
    if not AGENT_ID.fullmatch(value):
        raise _bad("'id' is 1-32 of a-z 0-9 . _ - starting with a letter or digit", "id")
    return value


def check_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME:
        raise _bad(f"'name' is a text of 1 to {MAX_NAME} characters", "name")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise _bad("'name' has a control character", "name")
    return value.strip()


def check_capacity(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CAPACITY:
        raise _bad(f"'capacity' is a whole number from 1 to {MAX_CAPACITY}", "capacity")
    return value


def check_roles(value: object) -> tuple[str, ...]:
    known = [r.value for r in Role]
    if not isinstance(value, list) or not value or not all(isinstance(r, str) and r in known for r in value):
        raise _bad(f"'roles' is a list of {', '.join(known)}", "roles")
    return tuple(r for r in known if r in value)  # in a fixed order, each once


def check_skills(value: object) -> tuple[tuple[str, int], ...]:
    """``{"billing": 3}`` (the API), or ``["billing:3", "spanish"]`` / ``"billing:3,spanish"`` (files, the CLI).

    The API's object is checked entry by entry in the admin form's words (a skill's name, its level:
    :func:`skill_problem`, field ``skills.<name>``); the texts in their own ``name:level`` words."""
    if isinstance(value, dict):
        if found := skills_object_problem(value):
            raise _bad(*found)
        if len(value) > MAX_SKILLS:
            raise _bad(f"'skills' names at most {MAX_SKILLS} skills", "skills")
        return tuple((name.lower(), level) for name, level in value.items())
    try:
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(s, str) for s in value)):
            skills = parse_skills(value)
        else:
            raise ValueError(f"'skills' is an object like {{\"billing\": 3}} (levels 1-{MAX_SKILL_LEVEL})")
    except ValueError as exc:
        raise _bad(str(exc), "skills") from None
    if len(skills) > MAX_SKILLS or len({name for name, _ in skills}) != len(skills):
        raise _bad(f"'skills' names each skill once, at most {MAX_SKILLS}", "skills")
    return skills


# ---- the directory


@dataclass
class AgentDirectory:
    """The agents in Redis and this node's copy of them. ``bus`` None (the CLI): no copy is kept up to date, but
    every change is still announced to the running nodes."""

    store: Store | None = None
    bus: Bus | None = None
    agents: dict[str, Agent] = field(default_factory=dict)  # this node's copy, by id
    _pending: set[str] = field(default_factory=set)
    _everything: bool = False
    _task: asyncio.Task[None] | None = None
    _watchers: list[Callable[[str], None]] = field(default_factory=list)

    @property
    def db(self) -> AccountStore:
        assert self.store is not None, "a directory without a store is a test's fixed list"
        return AccountStore(self.store)

    def get(self, agent_id: str) -> Agent | None:
        """This node's copy of the agent (None: unknown here; :meth:`lookup` asks the store)."""
        return self.agents.get(agent_id)

    def __len__(self) -> int:
        return len(self.agents)

    # ---- reading

    async def load(self) -> None:
        """Read the whole directory again into this node's copy."""
        fresh = {aid: from_json(aid, text) for aid, text in (await self.db.all()).items()}
        self.agents.clear()
        self.agents.update(fresh)

    async def fetch(self, agent_id: str) -> Agent | None:
        """The agent as the store has it now (this node's copy follows)."""
        text = await self.db.get(agent_id)
        agent = from_json(agent_id, text) if text else None
        if agent is None:
            self.agents.pop(agent_id, None)
        else:
            self.agents[agent_id] = agent
        return agent

    async def lookup(self, agent_id: str) -> Agent | None:
        """This node's copy, or the store's when this node does not know the agent yet."""
        return self.agents.get(agent_id) or await self.fetch(agent_id)

    async def listing(self) -> list[Agent]:
        """Every agent, read from the store now, by id."""
        await self.load()
        return [self.agents[a] for a in sorted(self.agents)]

    # ---- following the other nodes' changes

    async def start(self) -> None:
        # subscribed first: a change another node makes while this one reads (nodes starting together, one
        # seeding the empty directory) is announced to it, not lost between the read and the subscription
        if self.bus is not None:
            await self.bus.subscribe(self.db.keys.accounts_channel, self._on_bus, self._on_resubscribed)
        await self.load()

    async def stop(self) -> None:
        if self.bus is not None:
            await self.bus.unsubscribe(self.db.keys.accounts_channel, self._on_bus)
        await cancel_and_wait(self._task)
        self._task = None

    def watch(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(agent_id)`` whenever this node has read an agent again after a change (added, edited,
        disabled, removed: :meth:`get` answers the new state, None once removed), whichever node made it."""
        self._watchers.append(listener)

    def unwatch(self, listener: Callable[[str], None]) -> None:
        if listener in self._watchers:
            self._watchers.remove(listener)

    def _tell(self, agent_ids: Iterable[str]) -> None:
        for agent_id in sorted(agent_ids):
            for listener in list(self._watchers):
                listener(agent_id)

    def _on_bus(self, channel: str, message: Message) -> None:
        if isinstance(message, AgentChanged):
            self._pending.add(message.agent_id)
            self._kick()

    def _on_resubscribed(self, channel: str) -> None:
        """The channel is back after a Redis outage: anything may have changed meanwhile."""
        self._everything = True
        self._kick()

    def _kick(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._refresh(), name="agents-directory")

    async def _refresh(self) -> None:
        while self._pending or self._everything:
            ids, self._pending = self._pending, set()
            everything, self._everything = self._everything, False
            try:
                if everything:  # every agent read again: every one may have changed
                    before = set(self.agents)
                    await self.load()
                    ids |= before | set(self.agents)
                else:
                    for agent_id in ids:
                        await self.fetch(agent_id)
            except StoreError as exc:  # read again when the channel is back (resync)
                log.warning("agents directory not refreshed: %s: %s", type(exc).__name__, exc)
                return
            self._tell(ids)

    async def _announce(self, agent_id: str) -> None:
        if self.bus is not None:
            await self.bus.publish(self.db.keys.accounts_channel, AgentChanged(agent_id))

    # ---- writing (each write is announced to every node)

    async def add(self, agent: Agent) -> Agent:
        """Store a new agent; 409 ``conflict`` naming ``id`` when one with that id exists."""
        if not await self.db.swap(agent.id, "", to_json(agent)):
            raise Conflict(f"agent '{agent.id}' already exists", field="id")
        self.agents[agent.id] = agent
        await self._announce(agent.id)
        return agent

    async def change(self, agent_id: str, edit: Callable[[Agent], Agent]) -> tuple[Agent, Agent]:
        """Apply ``edit`` to the agent as stored (compare-and-set: an edit made meanwhile is read and ``edit`` runs
        again on it): (before, after). 404 naming ``id`` when there is no such agent."""
        for _ in range(SWAP_ROUNDS):
            text = await self.db.get(agent_id)
            if not text:
                raise NotFound(f"no agent '{agent_id}'", field="id")
            before = from_json(agent_id, text)
            after = edit(before)
            if await self.db.swap(agent_id, text, to_json(after)):
                self.agents[agent_id] = after
                await self._announce(agent_id)
                return before, after
        raise Conflict(f"agent '{agent_id}' keeps changing; try again", field="id")

    async def remove(self, agent_id: str) -> Agent:
        """Take the agent out of the directory: what it was. 404 naming ``id`` when there is none."""
        for _ in range(SWAP_ROUNDS):
            text = await self.db.get(agent_id)
            if not text:
                raise NotFound(f"no agent '{agent_id}'", field="id")
            if await self.db.swap(agent_id, text, ""):
                self.agents.pop(agent_id, None)
                await self._announce(agent_id)
                return from_json(agent_id, text)
        raise Conflict(f"agent '{agent_id}' keeps changing; try again", field="id")

    async def seed(self, agents: Iterable[Agent]) -> int:
        """The first agents of an empty directory, all at once: how many (0: it had agents, nothing written)."""
        entries = {a.id: to_json(a) for a in agents}
        stored = await self.db.seed(entries)
        if stored > 0:
            await self.load()
            for agent_id in entries:  # nodes started beside this one (workers) read them too
                await self._announce(agent_id)
        return max(stored, 0)

    async def import_agents(self, agents: Iterable[Agent], *, replace_existing: bool) -> tuple[int, list[str]]:
        """Store these agents, all or none: how many, and the ids that existed (refused unless
        ``replace_existing``: then 409 naming ``id``, nothing written)."""
        entries = {a.id: to_json(a) for a in agents}
        stored, exists = await self.db.import_all(entries, replace=replace_existing)
        if exists and not replace_existing:
            raise Conflict(f"agents exist already: {', '.join(sorted(exists))} (--replace to overwrite)", field="id")
        for agent_id in entries:
            await self._announce(agent_id)
        return stored, exists


def edited(agent: Agent, now_ms: int, **changes: Any) -> Agent:
    """The agent with these fields changed and its ``updated_at`` set."""
    return replace(agent, updated_at=now_ms, **changes)
