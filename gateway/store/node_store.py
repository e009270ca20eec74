"""Nodes and their calls in Redis: heartbeats, the call registry, takeover claims (rules: gateway/calls/takeover.py,
gateway/calls/anchors.py).

Keys: ``P:nodes``, ``P:node:NODE:alive`` / ``:takeover`` / ``:lost`` / ``:calls``, ``P:call:ID``, ``P:customer:ID:calls``,
``P:agent:ID:calls`` (gateway/store/keys.py). The heartbeat's expiry is Redis's own clock, so nodes whose clocks
disagree still agree on who is alive.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.store.store import Store, _s, encode


class NodeStore:
    def __init__(self, store: Store):
        self.store = store
        self.keys = store.keys
        self._redis = store.redis
        self._heartbeat = store.scripts["node_heartbeat"]
        self._stopped = store.scripts["node_stopped"]
        self._claim = store.scripts["claim_node"]
        self._taken_over = store.scripts["node_taken_over"]
        self._update = store.scripts["update_call"]
        self._end = store.scripts["end_call"]
        self._release_activity = store.scripts["release_activity"]
        self._release_lock = store.scripts["release_lock"]

    # ---------------------------------------------------------------- heartbeats and claims

    async def heartbeat(self, node_id: str, *, ttl_ms: int) -> str:
        """'ok', or 'lost' when another node claimed this one (it must end its calls; it never rejoins)."""
        k = self.keys
        return _s(await self._heartbeat([k.nodes, k.node_alive(node_id), k.node_lost(node_id)], [node_id, ttl_ms]))

    async def stopped(self, node_id: str) -> str:
        """A clean stop: 'left', or 'calls_left' (calls still registered: a survivor takes them over)."""
        k = self.keys
        return _s(await self._stopped([k.nodes, k.node_alive(node_id), k.node_calls(node_id)], [node_id]))

    async def silent_nodes(self) -> list[str]:
        """Watched nodes whose heartbeat has expired (or that stopped with calls left), in one round trip more."""
        nodes = sorted(_s(n) for n in await self._redis.smembers(self.keys.nodes))
        if not nodes:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for node in nodes:
                pipe.exists(self.keys.node_alive(node))
            return [node for node, alive in zip(nodes, await pipe.execute(), strict=True) if not alive]

    async def claim(self, dead: str, claimant: str, *, lease_ms: int, lost_ms: int) -> str:
        """'ok' (the claimant takes ``dead`` over; ``dead`` is marked lost for ``lost_ms``), 'gone', 'alive' or
        'taken' (another claimant holds it)."""
        k = self.keys
        keys = [k.nodes, k.node_alive(dead), k.node_takeover(dead), k.node_lost(dead)]
        return _s(await self._claim(keys, [dead, claimant, lease_ms, lost_ms]))

    async def taken_over(self, dead: str, claimant: str, *, lost_ms: int) -> str:
        """'ok' (the dead node is forgotten but for its lost mark), 'not_yours' or 'calls_left'."""
        k = self.keys
        keys = [k.nodes, k.node_takeover(dead), k.node_calls(dead), k.node_lost(dead)]
        return _s(await self._taken_over(keys, [dead, claimant, lost_ms]))

    async def release_claim(self, dead: str, claimant: str) -> bool:
        """A claimant that stops before it finished lets go of its claim at once (another survivor takes over
        without waiting for the lease); True if it held it."""
        return bool(await self._release_lock([self.keys.node_takeover(dead)], [claimant]))

    # ---------------------------------------------------------------- the call registry

    async def register_call(self, call_id: str, fields: dict[str, str]) -> None:
        """A live call (``fields`` name its node, customer, conversation, agents), with its index entries."""
        k = self.keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.call(call_id), mapping=fields)  # type: ignore[arg-type]
            pipe.sadd(k.node_calls(fields["node"]), call_id)
            pipe.sadd(k.customer_calls(fields["customer_id"]), call_id)
            for agent in {fields.get("agent_id", ""), fields.get("consult_agent_id", "")} - {""}:
                pipe.sadd(k.agent_calls(agent), call_id)
            await pipe.execute()

    async def update_call(
        self, call_id: str, fields: dict[str, str], *, leave: Iterable[str] = (), join: Iterable[str] = ()
    ) -> str:
        """Change a live call's fields; it leaves the call indexes of the agents in ``leave`` and joins those in
        ``join``. 'ok', or 'gone' (the call ended meanwhile: nothing is written)."""
        k = self.keys
        gone, added = [k.agent_calls(a) for a in leave if a], [k.agent_calls(a) for a in join if a]
        return _s(await self._update([k.call(call_id), *gone, *added], [call_id, encode(fields), len(gone)]))

    async def end_call(
        self, call_id: str, entry: dict[str, str], data: dict[str, object], *, now: int, max_events: int
    ) -> str:
        """End the call ``entry`` (as read from the registry) once, with ``call_ended`` ``data`` on its timeline:
        'ok', 'not_recorded', 'gone' (ended already) or 'moved' (read it again)."""
        k = self.keys
        cid = entry["conversation_id"]
        agents = [entry.get("agent_id", ""), entry.get("consult_agent_id", "")]
        keys = [
            k.call(call_id),
            k.node_calls(entry["node"]),
            k.customer_calls(entry["customer_id"]),
            k.conv(cid),
            k.timeline(cid),
            k.conv_channel(cid),
            k.event_log,
            *[k.agent_calls(a) for a in agents if a],
        ]
        args: list[str | int] = [
            entry["node"],
            call_id,
            encode(data),
            now,
            max_events,
            *agents,
            cid,
            self.store.event_log_max_entries,
        ]
        return _s(await self._end(keys, args))

    async def call(self, call_id: str) -> dict[str, str] | None:
        raw = await self._redis.hgetall(self.keys.call(call_id))
        return {_s(a): _s(b) for a, b in raw.items()} if raw else None

    async def call_node(self, call_id: str) -> str | None:
        node = await self._redis.hget(self.keys.call(call_id), "node")
        return _s(node) if node is not None else None

    async def _calls(self, index: str) -> list[tuple[str, dict[str, str]]]:
        return await self._call_rows(sorted(_s(c) for c in await self._redis.smembers(index)))

    async def _call_rows(self, ids: list[str]) -> list[tuple[str, dict[str, str]]]:
        """These calls' entries in one round trip (an id whose entry is gone is left out)."""
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for call_id in ids:
                pipe.hgetall(self.keys.call(call_id))
            rows = await pipe.execute()
        return [(cid, {_s(a): _s(b) for a, b in raw.items()}) for cid, raw in zip(ids, rows, strict=True) if raw]

    async def live_calls(self) -> list[tuple[str, dict[str, str]]]:
        """Every live call of every node (the supervisors' wallboard), in three round trips."""
        nodes = sorted(_s(n) for n in await self._redis.smembers(self.keys.nodes))
        if not nodes:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for node in nodes:
                pipe.smembers(self.keys.node_calls(node))
            return await self._call_rows(sorted({_s(c) for members in await pipe.execute() for c in members}))

    async def calls_of_node(self, node_id: str) -> list[tuple[str, dict[str, str]]]:
        return await self._calls(self.keys.node_calls(node_id))

    async def node_call_ids(self, node_id: str) -> list[str]:
        """Every id in the node's call index (also one whose entry is gone)."""
        return sorted(_s(c) for c in await self._redis.smembers(self.keys.node_calls(node_id)))

    async def forget_node_call(self, node_id: str, call_id: str) -> None:
        """An index entry without its call (written half before a crash)."""
        await self._redis.srem(self.keys.node_calls(node_id), call_id)

    async def calls_of_customer(self, customer_id: str) -> list[tuple[str, dict[str, str]]]:
        return await self._calls(self.keys.customer_calls(customer_id))

    async def calls_of_agent(self, agent_id: str) -> list[tuple[str, dict[str, str]]]:
        return await self._calls(self.keys.agent_calls(agent_id))

    # ---------------------------------------------------------------- agents' activities owned by a node

    async def activities_owned_by(self, node_id: str, agent_ids: list[str]) -> list[tuple[str, str]]:
        """(agent id, activity) of the agents whose call activity ``node_id`` set."""
        if not agent_ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for aid in agent_ids:
                pipe.hmget(self.keys.agent(aid), "activity_node", "activity")
            rows = await pipe.execute()
        return [
            (aid, _s(activity or b""))
            for aid, (owner, activity) in zip(agent_ids, rows, strict=True)
            if owner is not None and _s(owner) == node_id
        ]

    async def release_activity(
        self, agent_id: str, node_id: str, activity: str, *, until_ms: int, conversation: str = ""
    ) -> str:
        """'ok', or 'moved' (another node owns the agent's activity now)."""
        return _s(
            await self._release_activity([self.keys.agent(agent_id)], [node_id, activity, until_ms, conversation])
        )
