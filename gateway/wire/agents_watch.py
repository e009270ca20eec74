"""The agents file, followed while the gateway runs: a change takes effect without a restart.

``contact-gateway agents add | passwd | remove`` (or an editor) changes the file; every node
that reads it notices within :data:`CHECK_SECONDS`: a new agent can log in, and an agent
removed or given a new password loses every login session at once, on every node
(:meth:`LoginSessions.revoke_agent <gateway.wire.sessions.LoginSessions.revoke_agent>`: their desks are closed and
their tokens refused). A file that does not load is reported once and the agents stay as they were.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from gateway.contact.agents import AgentDirectory, load_agents
from gateway.errors import ConfigError
from gateway.store.store import StoreError
from gateway.tasks import cancel_and_wait
from gateway.wire.sessions import LoginSessions

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Changes:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    password_changed: tuple[str, ...]
    updated: tuple[str, ...]  # name, capacity, roles or skills


def changes(old: AgentDirectory, new: AgentDirectory) -> Changes:
    """What differs between two versions of the agents file."""
    both = old.agents.keys() & new.agents.keys()
    return Changes(
        added=tuple(sorted(new.agents.keys() - old.agents.keys())),
        removed=tuple(sorted(old.agents.keys() - new.agents.keys())),
        password_changed=tuple(sorted(a for a in both if old.agents[a].password_hash != new.agents[a].password_hash)),
        updated=tuple(
            sorted(
                a
                for a in both
                if old.agents[a].password_hash == new.agents[a].password_hash and old.agents[a] != new.agents[a]
            )
        ),
    )


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_mtime_ns, st.st_size


class AgentsWatcher:
    def __init__(self, path: Path, directory: AgentDirectory, sessions: LoginSessions):
        self.path = path
        self.directory = directory
        self.sessions = sessions
        self._seen = _stamp(path)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="agents-watch")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            try:
                await self.check()
            except StoreError as exc:  # the sessions could not be ended now: try again on the next round
                log.warning("agents file change not applied yet: %s", exc)

    async def check(self) -> Changes | None:
        """Apply the file if it changed since the last look; what changed (None: nothing, or a bad file)."""
        stamp = _stamp(self.path)
        if stamp == self._seen:
            return None
        try:
            new = await asyncio.to_thread(load_agents, self.path)
        except ConfigError as exc:
            self._seen = stamp  # said once; the next edit is looked at again
            log.error("agents file not reloaded (the agents stay as they were): %s", exc.message)
            return None
        diff = changes(self.directory, new)
        for agent_id in diff.removed + diff.password_changed:  # before the new file lets anyone in
            reason = "agent_removed" if agent_id in diff.removed else "password_changed"
            await self.sessions.revoke_agent(agent_id, reason=reason)
        self.directory.agents.clear()
        self.directory.agents.update(new.agents)
        self._seen = stamp
        if diff.added or diff.removed or diff.password_changed or diff.updated:
            log.info(
                "agents file reloaded: added %s; removed %s; new password %s; updated %s",
                ", ".join(diff.added) or "none",
                ", ".join(diff.removed) or "none",
                ", ".join(diff.password_changed) or "none",
                ", ".join(diff.updated) or "none",
            )
        return diff
