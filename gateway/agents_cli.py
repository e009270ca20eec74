"""``contact-gateway agents list|add|passwd|remove|import|export``: the agents in the store a gateway uses.

The store is the one ``serve`` uses with the same ``--data-dir`` / ``--redis-url`` (or ``CG_DATA_DIR`` /
``REDIS_URL``): a shared Redis by its URL; the embedded one by the data directory, reusing the server a running node
keeps on its socket there, or starting one from the directory's files for the command's length when no node runs.
Every write goes through the same code as the admin API (gateway/wire/agent_admin.py): the same rules, the agent's
sessions ended on every running node at once, an audit entry by ``cli:USER``.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from gateway.config import from_sources
from gateway.contact.agents import AgentDirectory, check_roles, check_skills
from gateway.contact.agents_file import load_agents, render_agents, write_agents
from gateway.contact.audit import AuditLog
from gateway.data_dir import prepare_data_dir
from gateway.errors import BadRequest, ConfigError
from gateway.protocol.states import Role
from gateway.store import connect as redis_connect
from gateway.store.bus import Bus
from gateway.store.embedded_redis import MAX_SOCKET_PATH, EmbeddedRedis
from gateway.store.store import Keys, Store
from gateway.wire.agent_admin import AgentAdmin
from gateway.wire.sessions import LoginSessions

log = logging.getLogger(__name__)

ReadPassword = Callable[[str, bool], str | None]


@contextlib.asynccontextmanager
async def connected(args: argparse.Namespace) -> AsyncIterator[AgentAdmin]:
    """The directory and what goes with its writes, on the store ``serve`` would use with these flags."""
    flags = {"data_dir": args.data_dir, "redis_url": args.redis_url}
    settings = from_sources(flags, os.environ)
    embedded = None
    url = None
    if not redis_connect.external(settings):
        if not settings.data_dir.is_dir():
            raise ConfigError(
                f"{settings.data_dir}: no such data directory (give the --data-dir or --redis-url of the gateway)",
                field="data_dir",
            )
        if len(str(settings.data_dir.resolve() / "redis.sock")) > MAX_SOCKET_PATH:
            # the node then runs its Redis on loopback TCP with a password of its own: not one we can find, and a
            # second server on the same files would fight over them
            raise ConfigError(
                f"{settings.data_dir}: the path is too long for the embedded Redis' socket; give --redis-url",
                field="data_dir",
            )
        prepare_data_dir(settings.data_dir)  # as serve does: 0700, tightened if it was left wider
        logging.getLogger("gateway.store.embedded_redis").setLevel(logging.WARNING)
        embedded = EmbeddedRedis(settings.data_dir)
        url = await embedded.start()  # the running node's server if there is one (then not stopped by us)
    redis = redis_connect.client(settings, url)
    store = Store(redis, Keys(redis_connect.key_prefix(settings)))
    bus = Bus(redis)  # only to announce changes and revocations to the running nodes
    try:
        await redis_connect.reach(redis, settings, url)
        directory = AgentDirectory(store, bus)  # not started: reads the store, announces its writes
        sessions = LoginSessions(store, bus, lifetime_seconds=settings.agent_token_hours * 3600)
        yield AgentAdmin(directory, sessions, AuditLog(store, max_entries=settings.audit_max_entries))
    finally:
        await bus.stop()
        await store.aclose()
        if embedded is not None:
            await embedded.stop()


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _roles(args: argparse.Namespace) -> list[str]:
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    roles += [Role.SUPERVISOR.value] * args.supervisor + [Role.ADMIN.value] * args.admin
    return list(check_roles(roles))


async def run(args: argparse.Namespace, read_password: ReadPassword) -> int:
    command = args.agents_command
    if command in ("add", "passwd"):
        password = read_password(args.agent_id, args.password_stdin)
        if password is None:
            return 2
    imported = load_agents(Path(args.file)) if command == "import" else {}
    async with connected(args) as admin:
        actor = _actor()
        if command == "list":
            agents = await admin.directory.listing()
            for agent in agents:
                if args.json:
                    print(json.dumps(agent.public(), ensure_ascii=False))
                else:
                    flags = " disabled" * agent.disabled + " must-change-password" * agent.must_change_password
                    skills = ",".join(f"{n}:{lv}" for n, lv in agent.skills) or "-"
                    roles = ",".join(agent.roles)
                    print(f"{agent.id}\t{agent.name}\t{roles}\tcapacity {agent.capacity}\tskills {skills}{flags}")
            if not args.json:
                print(f"{len(agents)} agents", file=sys.stderr)
        elif command == "add":
            try:
                parsed = check_skills(args.skills or "")
            except BadRequest as exc:
                raise ConfigError(exc.message, field="skills") from None
            agent = await admin.add(
                actor,
                agent_id=args.agent_id,
                password=password,
                name=args.name,
                capacity=args.capacity,
                skills=dict(parsed),
                roles=_roles(args),
                one_time=args.one_time,
            )
            print(f"added agent '{agent.id}' ({', '.join(agent.roles)}); they can log in now")
        elif command == "passwd":
            await admin.reset_password(actor, args.agent_id, password, one_time=args.one_time)
            said = " (to change at their next login)" if args.one_time else ""
            print(f"new password for '{args.agent_id}'{said}; their sessions have ended")
        elif command == "remove":
            await admin.remove(actor, args.agent_id)
            print(f"removed agent '{args.agent_id}'; their sessions have ended")
        elif command == "import":
            stored = await admin.import_agents(actor, imported.values(), replace_existing=args.replace)
            print(f"imported {stored} agents from {args.file}")
        elif command == "export":
            agents = await admin.directory.listing()
            if args.file == "-":
                sys.stdout.write(render_agents(agents))
            else:
                write_agents(Path(args.file), agents)
                print(f"exported {len(agents)} agents to {args.file} (mode 0600: it holds password hashes)")
    return 0
