"""Redis failover under Sentinel, with real processes (tests/support/redis_ha.py): a master, two replicas and three
Sentinels from Debian's packages; a real gateway node process that finds its master through the Sentinels
(``--redis-sentinel``) and acknowledges a chat message only once a replica has it (``--redis-durable-replicas 1``).

The master is SIGKILLed while a customer and an agent chat both ways: the chats pause (messages refused with
``store_unavailable``, which the clients send again, as the widget and the desk do) and resume on the promoted
replica without the clients reconnecting, and every message a client saw acknowledged is in the conversation's
timeline on the new master, and reached the other side live.

Two replicas, not one: a message is acknowledged once one replica has it, and after the failover the promoted
replica needs a replica of its own to confirm anything (with one, chats would wait for the old master to come back).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store.keys import Keys
from gateway.tasks import cancel_and_wait
from tests.integration.test_redis_outage import (
    Side,
    agent_side,
    assert_clean_log,
    chat,
    check_delivered,
    event_key,
    first_chat,
    open_side,
    wind_down,
)
from tests.support.redis_ha import SentinelSet
from tests.support.servers import GatewayProcess

WITHIN = 30.0


@pytest.fixture
def sentinels() -> Iterator[SentinelSet]:
    deployment = SentinelSet()
    deployment.start()
    try:
        yield deployment
    finally:
        deployment.stop()


def sentinel_node(tmp_path: Path, agents_file: Path, sentinels: SentinelSet, *extra: str) -> GatewayProcess:
    return GatewayProcess(
        tmp_path / "node",
        "--redis-sentinel",
        sentinels.sentinels,
        "--redis-master",
        sentinels.name,
        "--agents-file",
        str(agents_file),
        "--log-format",
        "text",
        "--limit-messages-per-minute",
        "6000",
        *extra,
        env={"CG_SECRET": "test-secret-0123456789abcdef"},
    )


def timeline_ids(sentinels: SentinelSet, cid: str) -> set[str]:
    """The event ids of a conversation's timeline on the current master."""
    client = sentinels.client()
    try:
        return {event_id for event_id, _fields in client.xrange(Keys().timeline(cid))}  # type: ignore[union-attr]
    finally:
        client.close()


def first_delivery_after(sides: list[Side], killed_at: float, killed_ms: int) -> float:
    """Seconds from the kill to the first chat message that reached a client and was stored after it."""
    arrivals = [
        at
        for side in sides
        for frame, at in zip(side.frames, side.arrived, strict=True)
        if frame["type"] == "event"
        and frame["event"]["type"] == "message"
        and int(frame["event"]["id"].split("-")[0]) > killed_ms
    ]
    assert arrivals, "no message was delivered after the failover"
    return min(arrivals) - killed_at


@pytest.mark.parametrize("how", ["killed", "frozen"])
async def test_a_sentinel_failover_pauses_chats_and_loses_nothing_acknowledged(
    tmp_path: Path, agents_file: Path, sentinels: SentinelSet, how: str
) -> None:
    """The master SIGKILLed (its connections reset), or frozen (SIGSTOP: they stay open and nothing answers, as a
    frozen host or a network cut look): the node's commands there fail after ``--redis-timeout``, its pub/sub
    connection's PING goes unanswered, and both connect anew to the master the Sentinels name now."""
    gw = sentinel_node(tmp_path, agents_file, sentinels, "--redis-durable-replicas", "1", "--redis-timeout", "2")
    sides: list[Side] = []
    traffic: list[asyncio.Task[None]] = []
    stop = asyncio.Event()
    try:
        await gw.start()
        alice = await agent_side(gw, "alice")  # capacity 2
        sides.append(alice)
        customers = [
            await open_side(f"customer{n}", gw.url.replace("http", "ws") + "/ws/customer", {"type": "hello"})
            for n in (0, 1)
        ]
        sides += customers
        for c in customers:
            await c.send_message({"type": "message", "client_id": f"{c.name}-first", "text": "hello"})
        await alice.wait_for("two chats", lambda: [f["type"] for f in alice.frames].count("assigned") == 2)
        cids = [f["conversation"]["id"] for f in alice.frames if f["type"] == "assigned"]

        traffic = [asyncio.create_task(chat(c, stop)) for c in customers]
        traffic += [asyncio.create_task(chat(alice, stop, cid)) for cid in cids]
        await asyncio.sleep(2)
        acked_before = sum(len(s.acked) for s in sides)
        old_port = sentinels.kill_master() if how == "killed" else sentinels.freeze_master()
        killed_at, killed_ms = time.monotonic(), int(time.time() * 1000)
        new_port = await asyncio.to_thread(sentinels.wait_for_new_master, old_port)
        promoted_after = time.monotonic() - killed_at
        await asyncio.sleep(4)  # chats go on with the new master
        stop.set()
        await asyncio.gather(*traffic)
        acked_after = sum(len(s.acked) for s in sides) - acked_before
        assert acked_after > 0, "no message was acknowledged after the failover"
        assert [(s.name, s.closed) for s in sides if s.closed] == [], "a client had to reconnect"

        # nothing acknowledged is lost: every acknowledged message is in its timeline on the new master ...
        for side in sides:
            for client_id, (cid, event_id) in side.acked.items():
                assert event_key(event_id) in timeline_ids(sentinels, cid), (
                    f"{side.name}'s {client_id} was acknowledged as {event_id}, but the new master (port {new_port}) "
                    "does not have it"
                )
        # ... and reached the other side live, once, in order
        for cust in customers:
            cid = cust.acked[f"{cust.name}-first"][0]
            await check_delivered(cust, alice, cid, "customer", failover=True)
            await check_delivered(alice, cust, cid, "agent", failover=True)

        refused = sum(sum(s.errors.values()) for s in sides)
        resumed = first_delivery_after(sides, killed_at, killed_ms)
        print(
            f"failover, master {how}: replica promoted {promoted_after:.2f} s after; first message delivered "
            f"again {resumed:.2f} s after; {refused} sends refused meanwhile and sent again; {acked_after} acknowledged "
            "after it"
        )
    finally:
        await wind_down(stop, traffic, sides, gw)
    assert_clean_log(gw)


async def test_a_message_is_acknowledged_only_once_a_replica_has_it(
    tmp_path: Path, agents_file: Path, sentinels: SentinelSet
) -> None:
    """With the replicas stopped (SIGSTOP) a message is refused (``store_unavailable``: not acknowledged); sent
    again once they run, it is acknowledged, and stored once."""
    gw = sentinel_node(
        tmp_path, agents_file, sentinels, "--redis-durable-replicas", "1", "--redis-durable-wait-ms", "300"
    )
    sides: list[Side] = []
    sending: asyncio.Task[None] | None = None
    paused = False
    try:
        await gw.start()
        customer = await open_side("customer", gw.url.replace("http", "ws") + "/ws/customer", {"type": "hello"})
        sides.append(customer)
        await customer.send_message({"type": "message", "client_id": "first", "text": "hello"})
        cid = customer.acked["first"][0]

        sentinels.pause_replicas(True)
        paused = True
        sending = asyncio.create_task(customer.send_message({"type": "message", "client_id": "m2", "text": "again"}))
        await customer.wait_for("a refusal", lambda: customer.errors["store_unavailable"] >= 2)
        assert "m2" not in customer.acked, "acknowledged while no replica could have it"
        sentinels.pause_replicas(False)
        paused = False
        await asyncio.wait_for(sending, WITHIN)
        event_id = event_key(customer.acked["m2"][1])
        client = sentinels.client()
        try:
            stored = [i for i, fields in client.xrange(Keys().timeline(cid)) if '"client_id":"m2"' in fields["data"]]  # type: ignore[union-attr]
        finally:
            client.close()
        assert stored == [event_id], "sent again after a refusal, the message is stored once"
    finally:
        if paused:
            sentinels.pause_replicas(False)
        await cancel_and_wait(sending)
        for side in sides:
            await side.close()
        if gw.proc is not None:
            await gw.stop()


async def test_a_node_chats_through_sentinels_and_a_master_that_want_passwords(
    tmp_path: Path, agents_file: Path
) -> None:
    """AUTH under Sentinel: the Sentinels have a password of their own (``--redis-sentinel-password``), the master
    and replicas another (``--redis-password``, from the environment); neither reaches the log."""
    deployment = SentinelSet(password="master-pass-6d1e0b", sentinel_password="sentinel-pass-93ac4f")
    deployment.start()
    gw = GatewayProcess(
        tmp_path / "node",
        "--redis-sentinel",
        deployment.sentinels,
        "--redis-master",
        deployment.name,
        "--agents-file",
        str(agents_file),
        "--log-format",
        "text",
        env={
            "CG_SECRET": "test-secret-0123456789abcdef",
            "CG_REDIS_PASSWORD": "master-pass-6d1e0b",
            "CG_REDIS_SENTINEL_PASSWORD": "sentinel-pass-93ac4f",
        },
    )
    sides: list[Side] = []
    try:
        await gw.start()
        alice, customer, cid = await first_chat(gw, sides, "hello")
        assert event_key(customer.acked["c1"][1]) in timeline_ids(deployment, cid)
    finally:
        for side in sides:
            await side.close()
        if gw.proc is not None:
            await gw.stop()
        deployment.stop()
    text = gw.log.read_text()
    assert "master-pass" not in text and "sentinel-pass" not in text
    assert "Redis: the master 'cg' of the Sentinels 127.0.0.1:" in text
