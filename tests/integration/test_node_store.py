"""Node heartbeats, takeover claims and the call registry on a real Redis: exactly one claimant takes a dead node
over, and a call's end is written exactly once whoever ends it (its node or the node that took it over)."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import Conflict
from gateway.store.node_store import NodeStore
from gateway.store.store import Store

LOST = 3_600_000


async def wait_until_gone(store: Store, key: str) -> None:
    async with asyncio.timeout(10):
        while await store.redis.exists(key):
            await asyncio.sleep(0.02)


async def test_two_claimants_of_a_dead_node_one_wins(store: Store) -> None:
    db = NodeStore(store)
    # (1 s to live: 100 ms ran out before the claim on a loaded machine, a CI failure)
    assert await db.heartbeat("dead", ttl_ms=1000) == "ok"
    assert await db.claim("dead", "n1", lease_ms=60_000, lost_ms=LOST) == "alive"
    await wait_until_gone(store, store.keys.node_alive("dead"))  # no heartbeat: it died
    assert await db.silent_nodes() == ["dead"]
    for _ in range(20):  # two survivors see it at the same moment, again and again
        results = await asyncio.gather(
            db.claim("dead", "n1", lease_ms=60_000, lost_ms=LOST), db.claim("dead", "n2", lease_ms=60_000, lost_ms=LOST)
        )
        assert sorted(results) in (["ok", "taken"],), results
        winner = "n1" if results[0] == "ok" else "n2"
        assert await store.redis.get(store.keys.node_takeover("dead")) == winner.encode()
        await store.redis.delete(store.keys.node_takeover("dead"))
    assert await db.claim("dead", "n1", lease_ms=60_000, lost_ms=LOST) == "ok"
    assert await db.claim("dead", "n1", lease_ms=60_000, lost_ms=LOST) == "ok"  # the claimant itself, trying again
    assert await db.claim("dead", "n2", lease_ms=60_000, lost_ms=LOST) == "taken"
    assert await db.heartbeat("dead", ttl_ms=5000) == "lost"  # it comes back: it must end its calls, not revive
    assert await db.taken_over("dead", "n2", lost_ms=LOST) == "not_yours"
    assert await db.taken_over("dead", "n1", lost_ms=LOST) == "ok"
    assert await db.claim("dead", "n2", lease_ms=60_000, lost_ms=LOST) == "gone"
    assert await db.silent_nodes() == []
    assert await store.redis.keys("cg:node:dead:*") == [store.keys.node_lost("dead").encode()]  # (it expires)
    assert 0 < await store.redis.pttl(store.keys.node_lost("dead")) <= LOST
    # the stalled node comes back after the takeover: still lost, never among the watched nodes again
    assert await db.heartbeat("dead", ttl_ms=5000) == "lost"
    assert await store.redis.smembers(store.keys.nodes) == set()
    assert not await store.redis.exists(store.keys.node_alive("dead"))


async def test_a_claimed_node_stays_lost_when_its_claimant_dies(store: Store) -> None:
    """The claim's lease runs out before anyone finished the takeover: the dead node still may not revive."""
    db = NodeStore(store)
    await store.redis.sadd(store.keys.nodes, "dead")
    assert await db.claim("dead", "n1", lease_ms=100, lost_ms=LOST) == "ok"
    await wait_until_gone(store, store.keys.node_takeover("dead"))
    assert await db.heartbeat("dead", ttl_ms=5000) == "lost"
    assert await db.silent_nodes() == ["dead"]  # the next survivor claims it
    assert await db.claim("dead", "n2", lease_ms=60_000, lost_ms=LOST) == "ok"


async def test_a_claimant_that_stops_lets_go_of_its_claim(store: Store) -> None:
    db = NodeStore(store)
    await store.redis.sadd(store.keys.nodes, "dead")
    assert await db.claim("dead", "n1", lease_ms=60_000, lost_ms=LOST) == "ok"
    assert await db.release_claim("dead", "n2") is False
    assert await db.claim("dead", "n2", lease_ms=60_000, lost_ms=LOST) == "taken"
    assert await db.release_claim("dead", "n1") is True
    assert await db.claim("dead", "n2", lease_ms=60_000, lost_ms=LOST) == "ok"  # at once, not after the lease


async def test_a_claimant_that_dies_is_replaced_when_its_lease_runs_out(store: Store) -> None:
    db = NodeStore(store)
    await store.redis.sadd(store.keys.nodes, "dead")
    assert await db.claim("dead", "n1", lease_ms=100, lost_ms=LOST) == "ok"
    assert await db.claim("dead", "n2", lease_ms=60_000, lost_ms=LOST) == "taken"
    await wait_until_gone(store, store.keys.node_takeover("dead"))
    assert await db.claim("dead", "n2", lease_ms=60_000, lost_ms=LOST) == "ok"


async def test_a_clean_stop_leaves_the_watch_unless_calls_are_left(store: Store) -> None:
    db = NodeStore(store)
    assert await db.heartbeat("n1", ttl_ms=5000) == "ok"
    await db.register_call("k1", {"node": "n1", "customer_id": "cust", "conversation_id": "c1"})
    assert await db.stopped("n1") == "calls_left"
    assert await db.silent_nodes() == ["n1"]  # taken over at once
    await store.redis.delete(store.keys.call("k1"), store.keys.node_calls("n1"))
    assert await db.heartbeat("n1", ttl_ms=5000) == "ok"
    assert await db.stopped("n1") == "left"
    assert await db.silent_nodes() == []
    assert await store.redis.smembers(store.keys.nodes) == set()


async def test_a_calls_end_is_written_once_whoever_ends_it(store: Store) -> None:
    """The call's own node and the node taking it over end it at the same moment: one call_ended."""
    db = NodeStore(store)
    opened = await store.open_conversation("cust", "c1", "default", now=1000, context={}, queued=False)
    assert opened.created
    entry = {"node": "n1", "customer_id": "cust", "conversation_id": "c1", "agent_id": "", "consult_agent_id": ""}
    await db.register_call("k1", entry)
    assert await db.update_call("k1", {"agent_id": "alice", "state": "ringing"}, join=["alice"]) == "ok"
    assert [c for c, _ in await db.calls_of_agent("alice")] == ["k1"]
    assert await db.end_call("k1", entry, {"reason": "x"}, now=1001, max_events=0) == "moved"  # alice since
    entry["agent_id"] = "alice"
    results = await asyncio.gather(
        db.end_call("k1", entry, {"call_id": "k1", "reason": "caller_hangup"}, now=1002, max_events=0),
        db.end_call("k1", entry, {"call_id": "k1", "reason": "node_lost"}, now=1002, max_events=0),
    )
    assert sorted(results) == ["gone", "ok"]
    ended = [e for e in await store.events("c1") if e["type"] == "call_ended"]
    assert len(ended) == 1
    assert await db.update_call("k1", {"state": "connected"}) == "gone"  # a late write does not bring it back
    for key in (
        store.keys.call("k1"),
        store.keys.node_calls("n1"),
        store.keys.customer_calls("cust"),
        store.keys.agent_calls("alice"),
    ):
        assert not await store.redis.exists(key), key


async def test_an_agents_activity_is_released_only_for_its_owner(store: Store) -> None:
    db = NodeStore(store)
    await store.update_agent("alice", {"activity": "on_call", "activity_until": "0", "activity_node": "n1"})
    await store.update_agent("bob", {"activity": "ringing", "activity_until": "0", "activity_node": "n2"})
    await store.redis.sadd(store.keys.agents, "alice", "bob")
    assert await db.activities_owned_by("n1", ["alice", "bob"]) == [("alice", "on_call")]
    assert await db.release_activity("bob", "n1", "", until_ms=0) == "moved"
    assert await db.release_activity("alice", "n1", "wrap_up", until_ms=5000) == "ok"
    assert await store.agent_field("alice", "activity") == "wrap_up"
    assert await store.agent_field("alice", "activity_node") == ""
    assert await store.agent_field("bob", "activity") == "ringing"


async def _calls(store: Store, cid: str) -> tuple[int, int]:
    started, ended = await store.redis.hmget(store.keys.conv(cid), "calls", "calls_ended")
    return int(started or 0), int(ended or 0)


async def test_a_call_that_ends_on_a_full_timeline_is_over_all_the_same(store: Store) -> None:
    """The timeline filled up during the call: its ``call_ended`` is not stored, but the call is over; counted as
    in progress, the conversation would wait as a call for ever (and hold its agents for rings)."""
    db = NodeStore(store)
    await store.open_conversation("cust", "c1", "default", now=1000, context={}, queued=False)
    await store.append("c1", "call_started", {"call_id": "k1", "channel": "voice"}, now=1001)
    entry = {"node": "n1", "customer_id": "cust", "conversation_id": "c1", "agent_id": "", "consult_agent_id": ""}
    await db.register_call("k1", entry)
    assert await _calls(store, "c1") == (1, 0)
    full = await store.redis.xlen(store.keys.timeline("c1"))
    assert await db.end_call("k1", entry, {"call_id": "k1", "reason": "x"}, now=1002, max_events=full) == "not_recorded"
    assert await _calls(store, "c1") == (1, 1)
    # the same end written without the registry (Store.append): refused on the full timeline, counted all the same
    capped = Store(store.redis, store.keys, max_timeline_events=full)
    await store.append("c1", "call_started", {"call_id": "k2", "channel": "voice"}, now=1003)
    with pytest.raises(Conflict) as refused:
        await capped.append("c1", "call_ended", {"call_id": "k2"}, now=1004)
    assert refused.value.code == "timeline_full"
    assert await _calls(store, "c1") == (2, 2)


async def test_a_call_end_without_its_start_does_not_hide_the_next_call(store: Store) -> None:
    """A ``call_ended`` whose ``call_started`` was never stored (its write failed) counts no end: the next call
    in the conversation is in progress while it lasts."""
    await store.open_conversation("cust", "c1", "default", now=1000, context={}, queued=False)
    await store.append("c1", "call_ended", {"call_id": "k1", "reason": "not_started"}, now=1001)
    await store.append("c1", "call_started", {"call_id": "k2", "channel": "voice"}, now=1002)
    started, ended = await _calls(store, "c1")
    assert started > ended, (started, ended)
