"""The Lua scripts from their files, on a real Redis: loaded once, run by SHA, loaded again when Redis forgot them;
the scripts that get a key the caller read first (no key built inside Lua) read again when it changed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio as aioredis

from gateway.store.keys import Keys
from gateway.store.scripts import sources
from gateway.store.session_store import SessionStore
from gateway.store.store import Store


async def test_a_script_is_run_by_sha_and_loaded_again_after_redis_forgot_it(store: Store) -> None:
    sha = store.scripts["open_conversation"]._script.sha
    opened = await store.open_conversation("cust", "c1", "support", now=1000, context={})
    assert opened.created
    assert await store.redis.script_exists(sha) == [True]
    await store.redis.script_flush()  # a restarted or failed-over Redis: no scripts cached
    assert (await store.append("c1", "message", {"text": "hi"}, now=1001))[2] == "ok"
    assert await store.open_conversation("cust", "c2", "support", now=1002, context={}) == type(opened)(
        "c1", False, "queued"
    )
    assert [e["type"] for e in await store.events("c1")] == ["opened", "state", "message"]


async def test_every_script_is_accepted_by_redis(store: Store) -> None:
    for name, source in sources().items():
        sha = await store.redis.script_load(source.text)
        assert sha == store.scripts[name]._script.sha


async def test_open_conversation_with_a_stale_current_conversation_reads_it_again(store: Store) -> None:
    first = await store.open_conversation("cust", "c1", "support", now=1000, context={})
    assert first.created
    # the caller read 'no conversation' (or an old one) just before: the script sees the change, the store reads again
    for hint in ("c0", "nonexistent"):
        again = await store.open_conversation("cust", "c9", "support", now=1001, context={}, current_hint=hint)
        assert (again.conversation_id, again.created, again.state) == ("c1", False, "queued")
    assert await store.conversation("c9") is None
    assert await store.close("c1", "support", "", "done", now=1002) == "ok"
    new = await store.open_conversation("cust", "c2", "support", now=1003, context={}, current_hint="c1")
    assert (new.conversation_id, new.created) == ("c2", True)
    assert await store.customer_current("cust") == "c2"


async def test_revoking_all_sessions_passes_each_session_key(store: Store) -> None:
    sessions = SessionStore(store)
    for sid in ("s1", "s2", "s3"):
        await sessions.create(sid, "alice", created_ms=1000, expires_ms=10**13)
    await sessions.create("x1", "bob", created_ms=1000, expires_ms=10**13)
    assert sorted(await sessions.revoke_all("alice")) == ["s1", "s2", "s3"]
    assert await sessions.get("s1") == {} and await sessions.live("alice", now_ms=0) == []
    assert not await store.redis.exists(store.keys.login_sessions_of("alice"))
    assert (await sessions.get("x1"))["agent_id"] == "bob"
    assert await sessions.revoke_all("alice") == []


async def test_finishing_a_callback_whose_conversation_changed_agent_meanwhile_changes_nothing(store: Store) -> None:
    """finish_callback releases the conversation's agent from the agent's set it was given: if another agent has
    the conversation by then, it answers 'moved' and writes nothing; the caller reads again."""
    k, r = store.keys, store.redis
    await r.hset(k.conv("c1"), mapping={"state": "assigned", "agent_id": "alice", "callback_id": "cb1"})
    await r.sadd(k.agent_convs("alice"), "c1")
    await r.hset(
        k.callback("cb1"),
        mapping={
            "conversation_id": "c1",
            "state": "ringing",
            "routed": "1",
            "attempts": 1,
            "max_attempts": 3,
            "retry_ms": 1000,
        },
    )
    finish = store.scripts["finish_callback"]

    def keys(agent: str) -> list[str]:
        return [
            k.callback("cb1"),
            k.callbacks_due,
            k.callbacks_open,
            k.callbacks_ringing,
            k.queue("support"),
            k.callbacks_queued,
            k.conv("c1"),
            k.timeline("c1"),
            k.conv_channel("c1"),
            k.agent_convs(agent),
            k.event_log,
        ]

    before = await r.hgetall(k.conv("c1")), await r.hgetall(k.callback("cb1"))
    assert await finish(keys("bob"), ["cb1", 5000, "no_answer", "retry", "", "", "c1", "bob", 1000]) == [b"moved", b""]
    assert (await r.hgetall(k.conv("c1")), await r.hgetall(k.callback("cb1"))) == before
    assert await r.smembers(k.agent_convs("alice")) == {b"c1"}
    assert await finish(keys("alice"), ["cb1", 5000, "no_answer", "retry", "", "", "c1", "alice", 1000]) == [
        b"retry",
        b"alice",
    ]
    assert await r.smembers(k.agent_convs("alice")) == set()
    assert await r.hget(k.conv("c1"), "state") == b"open"
    assert await r.hget(k.callback("cb1"), "state") == b"scheduled"


async def test_a_routing_pass_commits_its_plan_in_order_up_to_the_first_the_world_no_longer_allows(
    store: Store,
) -> None:
    """assign_many: the plan's assignments in one script, each checked as assign's, in order; at the first that
    fails nothing after it is done (the plan assumed it), and the reason is returned."""
    k, r = store.keys, store.redis
    for i, cid in enumerate(("c1", "c2", "c3", "c4")):
        await r.hset(k.conv(cid), mapping={"state": "queued", "queued_at": 1000 + i})
        await r.zadd(k.queue("default"), {cid: 1000 + i})
    for aid, status in (("alice", "available"), ("bob", "away")):
        await r.hset(k.agent(aid), mapping={"status": status, "capacity": 2, "name": aid.title()})
        await r.zadd(k.agent_sessions(aid), {f"s-{aid}": 10**13})
    plan = [("c1", "alice", "Alice"), ("c2", "alice", "Alice"), ("c3", "bob", "Bob"), ("c4", "alice", "Alice")]
    assert await store.assign_many("default", plan, now=5000) == (2, "agent_unavailable")
    assert [(await store.conversation(c) or {}).get("state") for c in ("c1", "c2", "c3", "c4")] == [
        "assigned",
        "assigned",
        "queued",
        "queued",
    ]
    assert await store.agent_conversations("alice") == ["c1", "c2"]
    assert [cid for cid, _ in await store.waiting("default", 10)] == ["c3", "c4"]
    assigned = [e for e in await store.events("c2") if e["type"] == "assigned"]
    assert assigned[0]["agent_name"] == "Alice" and assigned[0]["wait_ms"] == 3999
    # alice is full now: one more is refused as assign refuses it
    assert await store.assign_many("default", [("c4", "alice", "Alice")], now=5001) == (0, "agent_full")
    assert await store.assign_many("default", [], now=5002) == (0, "")


async def _connections_received(store: Store) -> int:
    return int((await store.redis.info("stats"))["total_connections_received"])


async def test_messages_stored_at_once_go_to_redis_in_one_pipeline_each_with_its_own_reply(store: Store) -> None:
    """A chat message's script is its one Redis call, and under load many are called at once: each took a pooled
    connection of its own (50 messages at once: 50 connections, 50 writes, 50 waits for a reply). Now the calls
    of one pass of the event loop go together: one connection, and every caller still gets its own reply, its own
    error (a broken timeline fails its message only), and a script Redis forgot is loaded again."""
    import asyncio

    from redis.exceptions import ResponseError

    await store.open_conversation("cust", "c1", "support", now=1000, context={})
    await store.open_conversation("other", "c2", "support", now=1000, context={})
    await store.redis.delete(store.keys.timeline("c2"))
    await store.redis.set(store.keys.timeline("c2"), "not a stream")  # its message fails, in the same pass
    await store.append("c1", "message", {"text": "warm-up"}, now=1001)  # the pool has a connection
    before = await _connections_received(store)
    n = 50
    results = await asyncio.gather(
        *(store.append("c1", "message", {"text": f"m{i}"}, now=1002 + i, client_id=f"m{i}") for i in range(n)),
        store.append("c2", "message", {"text": "broken"}, now=1002),
        return_exceptions=True,
    )
    assert await _connections_received(store) - before <= 1  # one at a time: 50
    *stored, broken = results
    assert isinstance(broken, ResponseError) and "WRONGTYPE" in str(broken)
    assert all(not isinstance(r, BaseException) and r[2] == "ok" for r in stored), stored[:3]
    assert len({r[1] for r in stored if not isinstance(r, BaseException)}) == n  # each its own event id
    texts = [e["text"] for e in await store.events("c1") if e["type"] == "message"]
    assert sorted(texts[1:]) == sorted(f"m{i}" for i in range(n))
    # the same again once Redis forgot its scripts (restarted): every message stored, once
    await store.redis.script_flush()
    again = await asyncio.gather(
        *(store.append("c1", "message", {"text": f"m{i}"}, now=2000 + i, client_id=f"r{i}") for i in range(n))
    )
    assert all(r[2] == "ok" for r in again)
    assert len([e for e in await store.events("c1") if e["type"] == "message"]) == 1 + 2 * n


async def test_a_batch_whose_first_caller_is_cancelled_still_stores_the_others(store: Store) -> None:
    """The first call of a pass sends the batch; cancelled before it did, the others go in a new batch (and a
    caller cancelled before its batch went is left out of it)."""
    import asyncio

    await store.open_conversation("cust", "c1", "support", now=1000, context={})
    calls = [
        asyncio.create_task(store.append("c1", "message", {"text": f"m{i}"}, now=1001 + i, client_id=f"m{i}"))
        for i in range(4)
    ]
    await asyncio.sleep(0)  # every call has joined the pass's batch; the first leads it
    calls[0].cancel()
    calls[2].cancel()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError) and isinstance(results[2], asyncio.CancelledError)
    assert results[1][2] == "ok" and results[3][2] == "ok"  # type: ignore[index]
    texts = [e["text"] for e in await store.events("c1") if e["type"] == "message"]
    assert sorted(texts) == ["m1", "m3"]


@pytest.mark.parametrize("how", ["timeout", "cancel"])
async def test_a_batch_cut_off_before_its_replies_leaves_none_for_the_next_caller(redis_url: str, how: str) -> None:
    """A batch (gateway/store/scripts.py ``pipelined``) that gave up on Redis midway (its timeout ran out, or its
    caller was cancelled) drops its connection: the replies still to come must not be read as the next batch's. A
    timeout is redis-py's TimeoutError (a StoreError)."""
    import asyncio

    from redis.exceptions import TimeoutError as RedisTimeoutError

    from gateway.store.scripts import pipelined

    # one connection, reused; a cancel must come before any timeout, however late a loaded machine runs the test
    timeout = 0.4 if how == "timeout" else 5.0
    client = aioredis.Redis.from_url(redis_url, socket_timeout=timeout, max_connections=1)
    other = aioredis.Redis.from_url(redis_url)
    try:
        assert await pipelined(client, [("ECHO", "warm-up")]) == [b"warm-up"]
        sleeping = asyncio.create_task(other.execute_command("DEBUG", "SLEEP", "0.6"))  # Redis answers late
        await asyncio.sleep(0.05)
        if how == "timeout":  # at 0.45 s
            with pytest.raises(RedisTimeoutError):
                await pipelined(client, [("ECHO", "late-1"), ("ECHO", "late-2")])
        else:  # at 0.3 s
            cut = asyncio.create_task(pipelined(client, [("ECHO", "late-1"), ("ECHO", "late-2")]))
            await asyncio.sleep(0.25)
            cut.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cut
        # at once (Redis may still be asleep): the next batch's replies are the next batch's
        assert await pipelined(client, [("ECHO", "next"), ("GET", "nothing")]) == [b"next", None]
        await sleeping
    finally:
        await client.aclose()
        await other.aclose()


async def test_a_batch_hands_each_error_reply_in_its_place_and_the_replies_after_it(redis_url: str) -> None:
    from redis.exceptions import ResponseError

    from gateway.store.scripts import pipelined

    client = aioredis.Redis.from_url(redis_url)
    try:
        await client.set("text", "abc")
        first, broken, after = await pipelined(client, [("ECHO", "one"), ("INCR", "text"), ("GET", "text")])
        assert first == b"one" and after == b"abc"
        assert isinstance(broken, ResponseError) and "not an integer" in str(broken)
    finally:
        await client.aclose()


async def test_a_batch_whose_first_caller_is_cancelled_after_sending_it_runs_the_others_once(
    store: Store, redis_url: str
) -> None:
    """The first call of a pass sends the batch; cancelled once it was written (Redis has it and runs it), the
    other calls of the batch must get the replies of that run, not go again: a script run twice stores an event
    without a client id twice (a system event)."""
    other = aioredis.Redis.from_url(redis_url)
    try:
        await store.open_conversation("cust", "c1", "support", now=1000, context={})
        await store.append("c1", "message", {"text": "warm-up"}, now=1001)  # the pool has a connection
        sleeping = asyncio.create_task(other.execute_command("DEBUG", "SLEEP", "0.4"))  # Redis answers late
        await asyncio.sleep(0.05)
        leader = asyncio.create_task(store.append("c1", "message", {"text": "m0"}, now=1002, client_id="m0"))
        system = asyncio.create_task(store.append("c1", "note", {"text": "a system event"}, now=1003))
        await asyncio.sleep(0.15)  # the batch is written; Redis is asleep
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader
        assert (await system)[2] == "ok"
        await sleeping
        events = await store.events("c1")
        assert [e["text"] for e in events if e["type"] == "note"] == ["a system event"]  # once
        assert [e["text"] for e in events if e["type"] == "message"] == ["warm-up", "m0"]  # it ran: Redis had it
    finally:
        await other.aclose()


async def test_a_batch_that_cannot_reach_redis_fails_in_every_caller() -> None:
    """Redis unreachable: each call of the pass raises the connection's error (none is left waiting)."""
    import socket

    from redis.exceptions import ConnectionError as RedisConnectionError

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = aioredis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=2)
    store = Store(client, Keys("cg"))
    try:
        calls = [store.append("c1", "message", {"text": f"m{i}"}, now=1000 + i) for i in range(3)]
        outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)
        assert [type(o) for o in outcomes] == [RedisConnectionError] * 3, outcomes
    finally:
        await client.aclose()


async def test_a_batch_after_redis_lost_its_scripts_runs_each_call_once(store: Store) -> None:
    """``NOSCRIPT`` for every call of a pass (Redis restarted, or failed over, and knows no script): each caller
    runs its call alone, loading the script, once; nobody is left waiting."""
    await store.open_conversation("cust", "c1", "support", now=1000, context={})
    await store.redis.script_flush()
    calls = [store.append("c1", "note", {"text": f"n{i}"}, now=1001 + i) for i in range(3)]
    outcomes = await asyncio.wait_for(asyncio.gather(*calls), 10)
    assert [o[2] for o in outcomes] == ["ok"] * 3
    assert sorted(e["text"] for e in await store.events("c1") if e["type"] == "note") == ["n0", "n1", "n2"]  # once each


async def test_pipelined_starts_no_task_per_call(redis_url: str) -> None:
    """``pipelined`` writes under its own timer: redis-py's ``send_packed_command`` ran every write in a
    ``wait_for``, on Python 3.11 one task (and a timer) per call, per chat message when nothing batches. A
    connection closed under the pool is connected anew, as before. (A batch of script calls runs its round trip
    in one task, ``Batch._trip``, which no caller's cancel stops: that one is on purpose.)"""
    import asyncio

    from gateway.store.scripts import pipelined

    client = aioredis.Redis.from_url(redis_url, socket_timeout=5, max_connections=1)
    loop = asyncio.get_running_loop()
    started: list[str] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any) -> asyncio.Task[Any]:
        started.append(getattr(coro, "__qualname__", repr(coro)))
        return asyncio.Task(coro, loop=loop)

    try:
        assert await pipelined(client, [("ECHO", "warm-up")]) == [b"warm-up"]
        loop.set_task_factory(factory)
        try:
            for i in range(5):
                assert await pipelined(client, [("ECHO", f"m{i}")]) == [f"m{i}".encode()]
        finally:
            loop.set_task_factory(None)
        assert started == []
        conn = client.connection_pool._available_connections[0]  # the one connection, closed under the client
        assert conn._writer is not None
        conn._writer.transport.abort()
        await asyncio.sleep(0)
        assert await pipelined(client, [("ECHO", "again")]) == [b"again"]
    finally:
        await client.aclose()
