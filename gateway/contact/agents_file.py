"""The agents file: the directory's import and export format (TOML), with hashed passwords.

One ``[[agent]]`` table per agent::

    [[agent]]
    id = "alice"
    name = "Alice Smith"
    password = "scrypt$16384$8$1$...$..."   # a hash, never the password
    capacity = 3                              # concurrent chats
    roles = ["agent"]                         # agent, supervisor, admin
    skills = ["billing:3", "spanish"]         # or a table: {billing = 3}
    disabled = false                          # optional
    must_change_password = false              # optional

The directory lives in Redis (gateway/contact/agents.py); this file is what ``contact-gateway agents export``
writes and ``agents import`` reads, and what an empty directory is seeded from at the first start (the
``--agents-file`` of earlier versions). Plain-text passwords are refused; a bad entry is a :class:`ConfigError`
naming the file and the entry.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from gateway.contact.agents import (
    AGENT_ID,
    MAX_CAPACITY,
    Agent,
    check_name,
    check_roles,
    check_skills,
)
from gateway.contact.passwords import hash_password, is_hash
from gateway.errors import BadRequest, ConfigError

FILE_HEADER = "# Agents of the contact gateway (contact-gateway agents export / import)\n"


def load_agents(path: Path) -> dict[str, Agent]:
    """The agents of a file, by id, in file order; ConfigError naming the file and entry for anything wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: agents file not found") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:  # a directory, no permission
        raise ConfigError(f"{path}: agents file not read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    entries = raw.get("agent", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: 'agent' must be an array of tables ([[agent]])")
    agents: dict[str, Agent] = {}
    for index, entry in enumerate(entries, start=1):
        where = f"{path}: agent #{index}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a table")
        agent_id = entry.get("id")
        if not isinstance(agent_id, str) or not AGENT_ID.fullmatch(agent_id):
            raise ConfigError(f"{where}: 'id' must match {AGENT_ID.pattern}", field="id")
        where = f"{path}: agent '{agent_id}'"
        if agent_id in agents:
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
        raw_skills = entry.get("skills", [])
        if not isinstance(raw_skills, dict | list):
            raise ConfigError(
                f'{where}: \'skills\' must be a list like ["billing", "spanish:3"] or a table like {{billing = 5}}',
                field="skills",
            )
        flags = {name: entry.get(name, False) for name in ("disabled", "must_change_password")}
        try:
            name = check_name(entry.get("name", agent_id))
            roles = check_roles(entry.get("roles", ["agent"]))
            skills = check_skills(raw_skills)
            if not all(isinstance(v, bool) for v in flags.values()):
                raise BadRequest("'disabled' and 'must_change_password' are true or false", field="disabled")
        except BadRequest as exc:
            raise ConfigError(f"{where}: {exc.message}", field=exc.field) from None
        agents[agent_id] = Agent(agent_id, name, password, capacity, roles, skills, **flags)
    return agents


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_agent(agent: Agent) -> str:
    roles = ", ".join(_toml_str(r) for r in agent.roles)
    skills = ", ".join(_toml_str(f"{name}:{level}") for name, level in agent.skills)
    return (
        f"\n[[agent]]\nid = {_toml_str(agent.id)}\nname = {_toml_str(agent.name)}\n"
        f"password = {_toml_str(agent.password_hash)}\ncapacity = {agent.capacity}\nroles = [{roles}]\n"
        + (f"skills = [{skills}]\n" if agent.skills else "")
        + ("disabled = true\n" if agent.disabled else "")
        + ("must_change_password = true\n" if agent.must_change_password else "")
    )


def render_agents(agents: list[Agent]) -> str:
    return FILE_HEADER + "".join(render_agent(a) for a in agents)


def write_agents(path: Path, agents: list[Agent]) -> None:
    """Write the file atomically, owner-only from the start (password hashes), never a file that does not load;
    ConfigError naming the path when it cannot be written, and no temporary file left behind (an export to a
    directory left ``DIR.tmp`` holding every password hash: an operator's finding)."""
    if path.is_dir():
        raise ConfigError(f"{path} is a directory: give the agents file's name in it")
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        tmp.unlink(missing_ok=True)  # one left by a crash may have other bits: start from a fresh 0600 file
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(render_agents(agents))
        load_agents(tmp)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"{path}: agents file not written: {exc.strerror or exc}") from None
    except ConfigError:
        tmp.unlink(missing_ok=True)
        raise


def add_agent(
    path: Path,
    agent_id: str,
    name: str,
    password: str,
    capacity: int = 3,
    roles: tuple[str, ...] = ("agent",),
    skills: tuple[tuple[str, int], ...] = (),
) -> Agent:
    """Append an agent to a file (created if missing) to import later: the file stays valid. No password rule is
    applied here (the directory's writes apply it): tests and scripts build files with it."""
    existing = load_agents(path) if path.exists() else {}
    if agent_id in existing:
        raise ConfigError(f"{path}: agent '{agent_id}' already exists", field="id")
    agent = Agent(agent_id, name, hash_password(password), capacity, roles, skills)
    write_agents(path, [*existing.values(), agent])
    return agent
