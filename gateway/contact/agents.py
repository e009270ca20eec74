"""The agents file: who may log in to the agent desk, with hashed passwords.

A TOML file with one ``[[agent]]`` table per agent::

    [[agent]]
    id = "alice"
    name = "Alice Smith"
    password = "scrypt$16384$8$1$...$..."   # from `contact-gateway agents add`
    capacity = 3                              # concurrent chats
    roles = ["agent"]                         # or ["agent", "supervisor"]

Plain-text passwords are refused: the file is read at start-up and a bad entry
is a :class:`ConfigError` naming the file and the entry.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from gateway.contact.passwords import hash_password, is_hash
from gateway.contact.routing import parse_skills
from gateway.errors import ConfigError

AGENT_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
MAX_CAPACITY = 50
SUPERVISOR_ROLES = ("supervisor", "admin")


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    name: str
    password_hash: str
    capacity: int = 3
    roles: tuple[str, ...] = ("agent",)
    skills: tuple[tuple[str, int], ...] = ()  # (skill, level 1-10), see gateway.contact.routing

    @property
    def supervises(self) -> bool:
        """Supervisors and admins: the wallboard, listening to / whispering into / barging into calls."""
        return any(role in SUPERVISOR_ROLES for role in self.roles)


@dataclass(slots=True)
class AgentDirectory:
    agents: dict[str, Agent] = field(default_factory=dict)

    def get(self, agent_id: str) -> Agent | None:
        return self.agents.get(agent_id)

    def __len__(self) -> int:
        return len(self.agents)


def load_agents(path: Path) -> AgentDirectory:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: agents file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    entries = raw.get("agent", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'agent' must be an array of tables ([[agent]])")
    directory = AgentDirectory()
    for index, entry in enumerate(entries, start=1):
        where = f"{path}: agent #{index}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a table")
        agent_id = entry.get("id")
        if not isinstance(agent_id, str) or not AGENT_ID.match(agent_id):
            raise ConfigError(f"{where}: 'id' must match {AGENT_ID.pattern}", field="id")
        where = f"{path}: agent '{agent_id}'"
        if agent_id in directory.agents:
            raise ConfigError(f"{where}: duplicate id", field="id")
        password = entry.get("password")
        if not isinstance(password, str) or not is_hash(password):
            raise ConfigError(
                f"{where}: 'password' must be a scrypt hash (make one with `contact-gateway agents add`)",
                field="password",
            )
        capacity = entry.get("capacity", 3)
        if not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
            raise ConfigError(f"{where}: 'capacity' must be an integer from 1 to {MAX_CAPACITY}", field="capacity")
        name = entry.get("name", agent_id)
        roles = entry.get("roles", ["agent"])
        if not isinstance(name, str) or not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ConfigError(f"{where}: 'name' must be a string and 'roles' a list of strings")
        raw_skills = entry.get("skills", [])
        try:
            if isinstance(raw_skills, dict):
                skills = parse_skills([f"{k}:{v}" for k, v in raw_skills.items()])
            elif isinstance(raw_skills, list) and all(isinstance(s, str) for s in raw_skills):
                skills = parse_skills(raw_skills)
            else:
                raise ValueError(
                    '\'skills\' must be a list like ["billing", "spanish:3"] or a table like {billing = 5}'
                )
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}", field="skills") from None
        directory.agents[agent_id] = Agent(agent_id, name, password, capacity, tuple(roles), skills)
    return directory


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_agent(agent: Agent) -> str:
    roles = ", ".join(_toml_str(r) for r in agent.roles)
    skills = ", ".join(_toml_str(f"{name}:{level}") for name, level in agent.skills)
    return (
        f"\n[[agent]]\nid = {_toml_str(agent.id)}\nname = {_toml_str(agent.name)}\n"
        f"password = {_toml_str(agent.password_hash)}\ncapacity = {agent.capacity}\nroles = [{roles}]\n"
        + (f"skills = [{skills}]\n" if agent.skills else "")
    )


def add_agent(
    path: Path,
    agent_id: str,
    name: str,
    password: str,
    capacity: int = 3,
    roles: tuple[str, ...] = ("agent",),
    skills: tuple[tuple[str, int], ...] = (),
) -> Agent:
    """Append an agent to the file (created if missing), atomically; the file stays valid."""
    existing = load_agents(path) if path.exists() else AgentDirectory()
    if agent_id in existing.agents:
        raise ConfigError(f"{path}: agent '{agent_id}' already exists", field="id")
    agent = Agent(agent_id, name, hash_password(password), capacity, roles, skills)
    text = path.read_text(encoding="utf-8") if path.exists() else FILE_HEADER
    _write(path, text + render_agent(agent))
    return agent


FILE_HEADER = "# Agents of the contact gateway\n"


def _write(path: Path, text: str) -> None:
    """Replace the agents file with ``text`` atomically, owner-only from the start, never with a bad file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.unlink(missing_ok=True)  # one left by a crash may have other bits: start from a fresh 0600 file
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # password hashes: owner only, from the start
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    try:
        load_agents(tmp)  # never replace a good file with a bad one
    except ConfigError:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)


def _rewrite(path: Path, agents: list[Agent]) -> None:
    _write(path, FILE_HEADER + "".join(render_agent(a) for a in agents))


def set_password(path: Path, agent_id: str, password: str) -> Agent:
    """Give an agent a new password (its hash); a running gateway ends the agent's sessions when it sees it."""
    directory = load_agents(path)
    old = directory.get(agent_id)
    if old is None:
        raise ConfigError(f"{path}: no agent '{agent_id}'", field="id")
    new = replace(old, password_hash=hash_password(password))
    _rewrite(path, [new if a.id == agent_id else a for a in directory.agents.values()])
    return new


def remove_agent(path: Path, agent_id: str) -> None:
    """Take an agent out of the file; a running gateway ends their sessions and refuses them from then on."""
    directory = load_agents(path)
    if agent_id not in directory.agents:
        raise ConfigError(f"{path}: no agent '{agent_id}'", field="id")
    _rewrite(path, [a for a in directory.agents.values() if a.id != agent_id])


def ensure_demo_agents(path: Path) -> str | None:
    """First run: create the file with one 'demo' agent; return its new password (else None)."""
    if path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(9)
    add_agent(path, "demo", "Demo Agent", password, capacity=3, roles=("agent", "supervisor"))
    return password
