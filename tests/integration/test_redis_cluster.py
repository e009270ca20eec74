"""Cluster mode (``--redis-cluster``) against a real Redis Cluster of three masters on loopback
(tests/support/redis_ha.py): every key of the deployment carries the hash tag ``{cg}``, so all of them are in
one slot, on one node, and every script (which touches many keys at once) runs there. A real node process chats
end to end on it; a script given keys of two slots is refused by the cluster (what the hash tag avoids); when the
cluster fails over the shard that holds everything, chats resume on its promoted replica (the bus opens its
pub/sub connection anew there: a cluster pub/sub connection belongs to one node).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from gateway.store.keys import Keys
from gateway.store.scripts import sources
from tests.integration.test_redis_outage import (
    Side,
    agent_answers,
    assert_clean_log,
    chat,
    event_key,
    first_chat,
    messages,
    wind_down,
)
from tests.integration.test_redis_sentinel import first_delivery_after
from tests.support.redis_ha import RedisClusterSet
from tests.support.servers import GatewayProcess


@pytest.fixture
def cluster() -> Iterator[RedisClusterSet]:
    deployment = RedisClusterSet()
    deployment.start()
    try:
        yield deployment
    finally:
        deployment.stop()


def cluster_node(tmp_path: Path, agents_file: Path, cluster: RedisClusterSet, *extra: str) -> GatewayProcess:
    return GatewayProcess(
        tmp_path / "node",
        "--redis-url",
        cluster.url,
        "--redis-cluster",
        "yes",
        "--agents-file",
        str(agents_file),
        "--log-format",
        "text",
        "--limit-messages-per-minute",
        "6000",
        *extra,
        env={"CG_SECRET": "test-secret-0123456789abcdef"},
    )


async def test_a_node_chats_on_a_redis_cluster(tmp_path: Path, agents_file: Path, cluster: RedisClusterSet) -> None:
    gw = cluster_node(tmp_path, agents_file, cluster)
    sides: list[Side] = []
    try:
        await gw.start()
        alice, customer, cid = await first_chat(gw, sides, "hello cluster")
        await agent_answers(alice, customer, cid)
    finally:
        await wind_down(asyncio.Event(), [], sides, gw)
    assert_clean_log(gw)

    # every key the node wrote is in the one slot of {cg}
    client = cluster.client()
    try:
        slot = client.keyslot("{cg}")
        written = [key for node in client.get_primaries() for key in client.scan_iter(target_nodes=node, count=1000)]
        assert Keys("{cg}").timeline(cid) in written
        assert {client.keyslot(key) for key in written} == {slot}, sorted(written)
    finally:
        client.close()


def test_a_script_given_keys_of_two_slots_is_refused_by_the_cluster(cluster: RedisClusterSet) -> None:
    """The failure cluster mode avoids: the append script sent (as redis-py would not: it checks first) to the node
    that owns its first key, with keys of the plain prefix, spread over slots: Redis refuses it (CROSSSLOT: "Keys in request don't hash to the same slot"). With the
    hash tag every key is in the slot of ``{cg}`` and the same script runs there."""
    cluster_client = cluster.client()
    try:
        text = sources()["append"].text
        for prefix, refused in (("cg", True), ("{cg}", False)):
            k = Keys(prefix)
            keys = [k.conv("c1"), k.timeline("c1"), k.client_ids("c1"), k.conv_channel("c1"), k.event_log]
            keys.append(k.conv_words("c1"))
            assert (len({cluster_client.keyslot(key) for key in keys}) > 1) is refused
            owner = cluster_client.get_node_from_key(keys[0])
            node = redis.Redis(host=owner.host, port=owner.port, decode_responses=True)
            args = ["", "note", '{"text":"x"}', 1, "", "c1", 0, 100, 1000]
            try:
                if refused:
                    with pytest.raises(redis.ResponseError, match="hash to the same slot"):
                        node.eval(text, len(keys), *keys, *args)
                else:
                    node.eval(text, len(keys), *keys, *args)
            finally:
                node.close()
    finally:
        cluster_client.close()


@pytest.mark.parametrize("how", ["killed", "frozen"])
async def test_chats_resume_after_the_cluster_fails_over_the_shard_that_holds_everything(
    tmp_path: Path, agents_file: Path, how: str
) -> None:
    """Three masters with a replica each; the master of ``{cg}``'s slot is SIGKILLed, or frozen (SIGSTOP: nothing
    answers and nothing is closed), under chat traffic: the cluster promotes its replica and the chats resume on it
    (messages refused meanwhile are sent again; a frozen master's pub/sub connection is noticed by its unanswered
    PING, ``--redis-timeout``)."""
    deployment = RedisClusterSet(replicas=1)
    deployment.start()
    gw = cluster_node(tmp_path, agents_file, deployment, "--redis-timeout", "2")
    sides: list[Side] = []
    traffic: list[asyncio.Task[None]] = []
    stop = asyncio.Event()
    try:
        await gw.start()
        alice, customer, cid = await first_chat(gw, sides, "hello", "customer-first")
        traffic = [asyncio.create_task(chat(customer, stop)), asyncio.create_task(chat(alice, stop, cid))]
        await asyncio.sleep(2)
        old_port = deployment.kill_owner("{cg}") if how == "killed" else deployment.freeze_owner("{cg}")
        killed_at, killed_ms = time.monotonic(), int(time.time() * 1000)
        await asyncio.to_thread(deployment.wait_for_new_owner, "{cg}", old_port)
        promoted_after = time.monotonic() - killed_at
        acked = {side.name: len(side.acked) for side in sides}
        await asyncio.sleep(4)
        stop.set()
        await asyncio.gather(*traffic)
        assert all(len(side.acked) > acked[side.name] for side in sides), "chats did not resume"
        assert [(s.name, s.closed) for s in sides if s.closed] == [], "a client had to reconnect"
        later = {  # acknowledged after the failover: delivered live to the other side
            side.name: {e for c, (conv, e) in side.acked.items() if int(event_key(e).split("-")[0]) > killed_ms}
            for side in sides
        }
        for sender, receiver, author in ((customer, alice, "customer"), (alice, customer, "agent")):
            await receiver.wait_for(
                f"{sender.name}'s messages after the failover",
                lambda sender=sender, receiver=receiver, author=author: (
                    later[sender.name] <= set(messages(receiver, cid, author))
                ),
            )
        print(
            f"cluster failover, master {how}: replica promoted {promoted_after:.2f} s after; first message delivered "
            f"again {first_delivery_after(sides, killed_at, killed_ms):.2f} s after it"
        )
    finally:
        await wind_down(stop, traffic, sides, gw)
        deployment.stop()
    assert "pub/sub connection opened anew" in assert_clean_log(gw)  # on the promoted replica, not the dead master
