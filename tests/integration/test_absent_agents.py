"""The sweep of absent agents decides on a real Redis, its clock set by the test: the agents' desks and chats are
what presence and routing write (sorted sets of desk expiries, the agent's hash, the set of their conversations).
The releases it asks for are recorded (the release itself, Handover.release_agent, is tested on a real node in
tests/integration/test_agent_leaves.py).

What it must never do: take the chats of an agent whose desk is open but whose expiry Redis could not be told about
(Redis down or restarted from an older snapshot, this node just started)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import pytest

from gateway.contact.absent_agents import CONFIRM_SECONDS, AbsentAgents
from gateway.contact.agents import Agent
from gateway.store.store import Store, StoreError

GONE = 180.0
T0 = 1_800_000_000_000  # ms
SWEEP_MS = 15_000


class Center:
    """Agents, their desks and chats as Redis holds them; the releases the sweep asked for."""

    def __init__(self, store: Store):
        self.store = store
        self.now = T0
        self.directory: dict[str, Agent] = {}
        self.released: list[tuple[str, str]] = []
        self.on_lookup: Callable[[], Awaitable[None]] | None = None  # what happens while the sweep reads an agent
        self.sweep = AbsentAgents(store, self.release, self.lookup, gone_seconds=GONE, clock=lambda: self.now)

    async def release(self, agent_id: str, reason: str) -> list[str]:
        self.released.append((agent_id, reason))
        convs = await self.store.agent_conversations(agent_id)
        await self.store.redis.delete(self.store.keys.agent_convs(agent_id))
        return convs

    async def lookup(self, agent_id: str) -> Agent | None:
        if self.on_lookup is not None:
            await self.on_lookup()
        return self.directory.get(agent_id)

    async def agent(self, aid: str, *, chats: int, desk_until: int | None, disabled: bool = False) -> None:
        """An agent with ``chats`` conversations and a desk whose expiry is ``desk_until`` (None: no desk ever)."""
        now = int(time.time() * 1000)
        self.directory[aid] = Agent(aid, aid.title(), "", disabled=disabled, created_at=now, updated_at=now)
        k = self.store.keys
        await self.store.redis.sadd(k.agents, aid)
        await self.store.redis.hset(k.agent(aid), mapping={"name": aid.title(), "status": "available"})
        if chats:
            await self.store.redis.sadd(k.agent_convs(aid), *[f"c_{aid}{i}" for i in range(chats)])
        if desk_until is not None:
            await self.store.redis.zadd(k.agent_sessions(aid), {"s1": desk_until})

    async def at(self, seconds: float) -> list[tuple[str, str]]:
        """Sweep ``seconds`` after T0: the releases asked for in that sweep."""
        self.now = T0 + int(seconds * 1000)
        before = len(self.released)
        await self.sweep.sweep()
        return self.released[before:]


@pytest.fixture
async def center(store: Store) -> Center:
    return Center(store)


async def test_a_desk_closed_longer_than_the_limit_loses_its_chats_once(center: Center) -> None:
    await center.agent("ann", chats=2, desk_until=T0 - int(GONE * 1000) - 1)  # closed over three minutes ago
    await center.agent("bea", chats=1, desk_until=T0 + 30_000)  # at her desk
    await center.agent("cal", chats=0, desk_until=T0 - 3_600_000)  # gone, but nothing to give back
    await center.agent("dee", chats=1, desk_until=T0 - 60_000)  # closed a minute ago
    assert await center.at(0) == []  # this node has not seen ann's absence itself yet
    assert await center.at(CONFIRM_SECONDS - 1) == []
    assert await center.at(CONFIRM_SECONDS) == [("ann", "agent_absent")]
    assert await center.at(CONFIRM_SECONDS + 15) == []  # released once
    assert await center.at(GONE - 60 - 1) == []
    assert await center.at(GONE - 60) == [("dee", "agent_absent")]


async def test_removed_or_disabled_agents_lose_their_chats_at_once_and_an_open_desk_waits(center: Center) -> None:
    await center.agent("ann", chats=1, desk_until=T0 - 1000)
    del center.directory["ann"]  # removed with the agents command
    await center.agent("bea", chats=1, desk_until=T0 - 1000, disabled=True)
    await center.agent("cal", chats=1, desk_until=T0 + 30_000, disabled=True)  # her desk is closing
    assert sorted(await center.at(0)) == [("ann", "agent_removed"), ("bea", "agent_disabled")]
    await center.store.redis.zadd(center.store.keys.agent_sessions("cal"), {"s1": T0 - 1})
    assert await center.at(1) == [("cal", "agent_disabled")]


async def test_stale_expiries_after_an_outage_take_nobody_s_chats(center: Center, store: Store) -> None:
    """Redis was down for ten minutes: every open desk's expiry is ten minutes old when it is back. The nodes'
    heartbeats refresh them within seconds; the sweep must not act before they could."""
    stale = T0 - 600_000
    await center.agent("ann", chats=1, desk_until=stale)  # her desk is open; its node refreshes it within 10 s
    await center.agent("bob", chats=1, desk_until=stale)  # his laptop was shut before the outage
    assert await center.at(0) == []
    await store.redis.zadd(store.keys.agent_sessions("ann"), {"s1": T0 + 10_000 + 30_000})  # her node's heartbeat
    assert await center.at(CONFIRM_SECONDS) == [("bob", "agent_absent")]


async def test_a_sweep_that_cannot_read_redis_starts_the_watch_again(center: Center, store: Store) -> None:
    await center.agent("ann", chats=1, desk_until=T0 - 600_000)
    assert await center.at(0) == []
    agents = store.keys.agents
    await store.redis.rename(agents, "aside")
    await store.redis.set(agents, "not a set")  # the sweep's first read fails as a Redis error does
    with pytest.raises(StoreError):
        await center.at(20)
    await store.redis.rename("aside", agents)
    assert await center.at(CONFIRM_SECONDS) == []  # watched from here, not from 0
    assert await center.at(2 * CONFIRM_SECONDS) == [("ann", "agent_absent")]


async def test_an_agent_back_at_the_last_moment_keeps_their_chats(center: Center, store: Store) -> None:
    await center.agent("ann", chats=1, desk_until=T0 - int(GONE * 1000))
    assert await center.at(0) == []

    async def her_desk_opens() -> None:  # after the sweep read everyone's desks, before it acts on hers
        await store.redis.zadd(store.keys.agent_sessions("ann"), {"s2": center.now + 30_000})

    center.on_lookup = her_desk_opens
    assert await center.at(CONFIRM_SECONDS) == []
    assert center.released == []
