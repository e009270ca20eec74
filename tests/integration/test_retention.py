"""Retention on a real node and Redis: closed conversations older than retention_days go, with every key they own
and their recordings; nothing newer, nothing open. Time is moved, not waited for."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from gateway.contact.routing import now_ms
from gateway.ops.retention import Retention
from gateway.protocol.states import EventType
from gateway.store.event_log_store import EventLogStore
from gateway.store.keys import Keys
from gateway.store.store import Store
from tests.conftest import Clients
from tests.support.servers import Node

DAY = 86400.0


async def keys_of(node: Node) -> set[str]:
    return {k.decode() async for k in node.services.store.redis.scan_iter(match="cg:*")}


def record(root: Path, cid: str, mtime: float) -> Path:
    """A recording file of ``cid`` as the recorder leaves it, last written at ``mtime``."""
    path = root / cid / "call-1.ogg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"OggS")
    for p in (path, path.parent):
        os.utime(p, (mtime, mtime))
    return path


async def test_retention_deletes_what_is_older_and_nothing_newer(clients: Clients, node: Node) -> None:
    s = node.services
    old, recent, still_open = clients.customer(), clients.customer(), clients.customer()
    for c in (old, recent, still_open):
        await c.hello(context={"page": "https://shop.example/"})
    old_cid = (await old.say("an old question"))["conversation_id"]
    await s.conversations.close_without_agent(old_cid, "resolved")
    # a callback that was booked in it (closed with it)
    cb = s.keys.callback("cb_old")
    await s.store.redis.hset(cb, mapping={"conversation_id": old_cid, "state": "closed"})
    await s.store.append(old_cid, EventType.CALLBACK, {"callback_id": "cb_old", "action": "closed"}, now=now_ms())
    old_closed_at = int((await s.store.conversation(old_cid) or {})["updated_at"])
    await asyncio.sleep(0.05)
    recent_cid = (await recent.say("a newer question"))["conversation_id"]
    await s.conversations.close_without_agent(recent_cid, "resolved")
    open_cid = (await still_open.say("still talking"))["conversation_id"]
    keys_before = await keys_of(node)
    assert {
        s.keys.conv(old_cid),
        s.keys.timeline(old_cid),
        s.keys.ctx(old_cid),
        cb,
        s.keys.customer(old.customer_id),
        s.keys.customer_client_ids(old.customer_id),
    } <= keys_before

    recordings = s.settings.data_dir / "recordings"
    old_file = record(recordings, old_cid, old_closed_at / 1000 - 60)
    recent_file = record(recordings, recent_cid, time.time())
    open_file = record(recordings, open_cid, old_closed_at / 1000 - 60)  # old file, but the chat is open
    orphan_file = record(recordings, "c_gone", old_closed_at / 1000 - 60)  # its conversation is already gone

    # 365 days after the old conversation closed (and a millisecond): only it is past the cutoff
    retention = Retention(
        s.store, retention_days=365, recordings=recordings, clock=lambda: (old_closed_at + 1) / 1000 + 365 * DAY
    )
    report = await retention.run_once()
    assert report.ran_redis and report.conversations == [old_cid]
    assert report.recordings == sorted([old_cid, "c_gone"])
    gone = keys_before - await keys_of(node)
    assert gone == {
        s.keys.conv(old_cid),
        s.keys.timeline(old_cid),
        s.keys.ctx(old_cid),
        cb,
        s.keys.customer(old.customer_id),
        s.keys.customer_client_ids(old.customer_id),
        # its search index entries: the customer's list, its words ('question' is the recent one's too)
        s.keys.customer_convs(old.customer_id),
        s.keys.conv_words(old_cid),
        s.keys.word("an"),
        s.keys.word("old"),
    }
    assert await s.store.redis.zrange(s.keys.word("question"), 0, -1) == [recent_cid.encode()]
    assert old_cid.encode() not in await s.store.redis.zrange(s.keys.all_convs, 0, -1)
    assert not old_file.exists() and not orphan_file.exists()
    assert recent_file.exists() and open_file.exists()
    assert await s.store.conversation(recent_cid) is not None and await s.store.conversation(open_cid) is not None
    assert [e["text"] for e in await s.store.events(recent_cid) if e["type"] == "message"] == ["a newer question"]
    assert await s.store.redis.zrange(s.keys.closed_index, 0, -1) == [recent_cid.encode()]

    # a second pass at the same time deletes nothing more; a year after everything, the recent one goes too
    assert (await retention.run_once()).conversations == []
    retention.clock = lambda: time.time() + 366 * DAY
    report = await retention.run_once()
    assert report.conversations == [recent_cid] and report.recordings == [recent_cid]
    assert await s.store.conversation(open_cid) is not None and open_file.exists()


async def test_only_one_node_runs_a_pass_at_a_time(clients: Clients, node: Node) -> None:
    s = node.services
    cust = clients.customer()
    await cust.hello()
    cid = (await cust.say("hello"))["conversation_id"]
    await s.conversations.close_without_agent(cid, "resolved")

    def far() -> float:  # a clock far in the future
        return 4e9

    await s.store.redis.set(s.keys.retention_lock, "another-node", px=60_000)
    blocked = await Retention(s.store, retention_days=1, recordings=Path("/nonexistent"), clock=far).run_once()
    assert not blocked.ran_redis and blocked.conversations == []
    assert await s.store.conversation(cid) is not None
    await s.store.redis.delete(s.keys.retention_lock)
    # two passes at once (two nodes): each conversation is deleted once, and by one of them
    a, b = (Retention(s.store, retention_days=1, recordings=Path("/nonexistent"), clock=far) for _ in range(2))
    reports = await asyncio.gather(a.run_once(), b.run_once())
    assert sorted(r.ran_redis for r in reports) == [False, True]
    assert [c for r in reports for c in r.conversations] == [cid]


async def test_conversations_closed_before_the_index_existed_are_found(clients: Clients, node: Node) -> None:
    s = node.services
    cust = clients.customer()
    await cust.hello()
    cid = (await cust.say("from an older version"))["conversation_id"]
    await s.conversations.close_without_agent(cid, "resolved")
    await s.store.redis.delete(s.keys.closed_index)  # as an older gateway left it: closed, not indexed
    report = await Retention(s.store, retention_days=1, recordings=Path("/nonexistent"), clock=lambda: 4e9).run_once()
    assert report.indexed == 1 and report.conversations == [cid]
    assert await s.store.conversation(cid) is None


# ---------------------------------------------------------------- the event log


async def logged_cids(store: Store) -> list[str]:
    return [e.cid for e in await EventLogStore.of(store).range(count=100_000)]


async def test_a_conversation_deleted_by_retention_leaves_nothing_in_the_event_log(
    clients: Clients, node: Node, caplog: pytest.LogCaptureFixture
) -> None:
    s = node.services
    old = clients.customer()
    await old.hello()
    old_cid = (await old.say("my card number is in here"))["conversation_id"]
    await s.conversations.close_without_agent(old_cid, "resolved")
    old_closed_at = int((await s.store.conversation(old_cid) or {})["updated_at"])
    assert old_cid in await logged_cids(s.store)
    events = EventLogStore.of(s.store)
    await events.ensure_group("laggard", start="0")  # a reader that never read anything: retention wins over it
    cutoff = old_closed_at + 1
    later = await s.store.redis.xadd(
        s.keys.event_log, {"cid": "c_later", "type": "message"}, id=f"{cutoff + 120_000}-0"
    )

    retention = Retention(
        s.store, retention_days=365, recordings=Path("/nonexistent"), clock=lambda: cutoff / 1000 + 365 * DAY
    )
    report = await retention.run_once()
    assert report.conversations == [old_cid]
    assert old_cid not in await logged_cids(s.store)  # old code: its message text stayed in P:events
    assert report.event_log_trimmed > 0
    assert [e.id for e in await events.range()] == [later.decode()]  # newer than the cutoff and its margin: kept
    assert "laggard" in caplog.text


async def test_the_event_log_is_trimmed_by_time_behind_what_its_readers_still_need(
    redis_url: str, tmp_path: Path
) -> None:
    client = aioredis.Redis.from_url(redis_url)
    store = Store(client, Keys("trim"))
    try:
        events = EventLogStore.of(store)
        now = int(time.time() * 1000)
        ids = {}
        for name, ago_min in (("c_3h", 180), ("c_2h", 120), ("c_30m", 30)):
            entry = {"cid": name, "type": "message", "data": "{}", "ts": str(now - ago_min * 60_000)}
            ids[name] = (await client.xadd(store.keys.event_log, entry, id=f"{now - ago_min * 60_000}-0")).decode()
        await events.ensure_group("slow", start="0")
        assert [e.cid for e in await events.read("slow", "n1", count=1, block_ms=10)] == ["c_3h"]  # pending
        retention = Retention(
            store, retention_days=0, recordings=tmp_path, clock=lambda: now / 1000, event_log_keep_hours=1
        )
        assert (await retention.run_once()).event_log_trimmed == 0  # c_3h is read, not handled: all stay
        await events.ack("slow", [ids["c_3h"]])
        assert (await retention.run_once()).event_log_trimmed == 0  # c_2h not read yet; c_3h is where "slow" is
        handled = await events.read("slow", "n1", count=10, block_ms=10)
        await events.ack("slow", [e.id for e in handled])
        report = await retention.run_once()  # everything handled: what is over an hour old goes
        assert report.event_log_trimmed == 2 and [e.cid for e in await events.range()] == ["c_30m"]
    finally:
        await client.delete(store.keys.event_log)
        await store.aclose()
