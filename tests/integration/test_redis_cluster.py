"""Cluster mode (``--redis-cluster``) against a real Redis Cluster of three masters on loopback
(tests/support/redis_ha.py): every key of the deployment carries the hash tag ``{cg}``, so all of them are in
one slot, on one node, and every script (which touches many keys at once) runs there. A real node process chats
end to end on it; a script given keys of two slots is refused by the cluster (what the hash tag avoids).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from gateway.store.keys import Keys
from gateway.store.scripts import sources
from tests.integration.test_redis_outage import Side, agent_side, open_side
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


async def test_a_node_chats_on_a_redis_cluster(tmp_path: Path, agents_file: Path, cluster: RedisClusterSet) -> None:
    gw = GatewayProcess(
        tmp_path / "node",
        "--redis-url",
        cluster.url,
        "--redis-cluster",
        "yes",
        "--agents-file",
        str(agents_file),
        "--log-format",
        "text",
        env={"CG_SECRET": "test-secret-0123456789abcdef"},
    )
    sides: list[Side] = []
    try:
        await gw.start()
        alice = await agent_side(gw, "alice")
        sides.append(alice)
        customer = await open_side("customer", gw.url.replace("http", "ws") + "/ws/customer", {"type": "hello"})
        sides.append(customer)
        await customer.send_message({"type": "message", "client_id": "c1", "text": "hello cluster"})
        await alice.wait_for("the chat", lambda: alice.first("assigned"))
        cid = customer.acked["c1"][0]
        await alice.send_message({"type": "message", "client_id": "a1", "conversation_id": cid, "text": "hi"})
        await customer.wait_for(
            "the agent's answer",
            lambda: any(e["type"] == "message" and e.get("author") == "agent" for e in customer.events()),
        )
    finally:
        for side in sides:
            await side.close()
        if gw.proc is not None:
            await gw.stop()
    text = gw.log.read_text()
    at = max(text.find("Traceback"), text.find("Error handling request"))
    assert at < 0, text[max(0, at - 1000) : at + 4000]

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
