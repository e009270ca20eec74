"""A pipeline that fails before it runs gives its Redis connection back (a real Redis; no mock).

redis-py loads a pipeline's scripts (SCRIPT EXISTS / LOAD) on the pipeline's own connection before the part of
``execute`` that always releases it: a failure there (Redis refusing, a connection dropped, the caller cancelled)
left the connection checked out of the node's bounded pool for good, and a "Unclosed Pipeline client" warning when
the pipeline was collected. Every pipeline in the store is now an ``async with`` block, which releases it."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis
from redis.exceptions import NoPermissionError

from gateway.store.connect import FairLine
from gateway.store.keys import Keys
from gateway.store.rollup_store import Change, RollupStore
from gateway.store.store import Store


async def test_a_pipeline_refused_while_loading_its_scripts_gives_its_connection_back(redis_url: str) -> None:
    admin = aioredis.Redis.from_url(redis_url)
    user, password = f"noscript-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    # everything but SCRIPT: the rollup pipeline's script check (SCRIPT EXISTS) is refused
    await admin.execute_command("ACL", "SETUSER", user, "on", f">{password}", "~*", "&*", "+@all", "-script")
    parts = urlsplit(redis_url)
    pool = FairLine.from_url(f"redis://{user}:{password}@{parts.hostname}:{parts.port}", max_connections=1, timeout=2)
    redis = aioredis.Redis.from_pool(pool)
    try:
        rollups = RollupStore(Store(redis, Keys(f"t{uuid.uuid4().hex[:6]}")))
        change = Change("1-0", 1, 1_700_000_000_000, [("queue", "default", "offered", 1)])
        with pytest.raises(NoPermissionError):
            await rollups.apply_each([change])
        # the pool's one connection is free again: the next command gets it (a leaked one: "no Redis connection
        # came free in 2 s")
        assert await redis.ping()
    finally:
        await redis.aclose()
        await admin.execute_command("ACL", "DELUSER", user)
        await admin.aclose()
