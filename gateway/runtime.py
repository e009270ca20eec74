"""The shared objects of one gateway node, and their start and stop in order.

``Services`` lives in the aiohttp app under :data:`SERVICES`; handlers get it
from there, never from module globals.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

import redis.asyncio as aioredis
from aiohttp import web

from .agents import AgentDirectory, ensure_demo_agents, load_agents
from .bus import Bus
from .config import Settings
from .conversations import Conversations
from .embedded_redis import EmbeddedRedis
from .presence import Presence
from .queue_board import QueueBoard
from .routing import Router
from .store import Keys, Store
from .tokens import TokenSigner

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    redis: aioredis.Redis
    keys: Keys
    store: Store
    bus: Bus
    router: Router
    presence: Presence
    conversations: Conversations
    signer: TokenSigner
    directory: AgentDirectory
    queue_board: QueueBoard
    embedded: EmbeddedRedis | None = None
    extra: dict[str, object] = field(default_factory=dict)


REDIS_POOL_SIZE = 64

SERVICES = web.AppKey("services", Services)
SOCKETS: web.AppKey[set[web.WebSocketResponse]] = web.AppKey("sockets")  # open sockets, closed on shutdown


async def _shared_secret(redis: aioredis.Redis, keys: Keys, configured: str | None) -> bytes:
    if configured:
        return configured.encode()
    await redis.set(keys.secret, secrets.token_hex(32), nx=True)
    value = await redis.get(keys.secret)
    assert isinstance(value, bytes)
    return value


async def start(settings: Settings) -> Services:
    directory_path = settings.agents_path
    password = ensure_demo_agents(directory_path)
    if password is not None:
        log.warning("created %s with agent 'demo', password '%s' (change it: contact-gateway agents add)",
                    directory_path, password)
    directory = load_agents(directory_path)

    embedded = None
    url = settings.redis_url
    if not url:
        embedded = EmbeddedRedis(settings.data_dir)
        url = await embedded.start()
    # A bounded pool that makes callers wait for a free connection instead of failing under load.
    pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=REDIS_POOL_SIZE, timeout=10,
                                                    health_check_interval=30)
    redis = aioredis.Redis(connection_pool=pool)
    try:
        await redis.ping()
        keys = Keys(settings.key_prefix)
        store = Store(redis, keys)
        bus = Bus(redis)
        await bus.start(always=keys.agent_channel("__node__"))
        router = Router(store)
        presence = Presence(store, router)
        conversations = Conversations(store, router, settings.dispositions)
        services = Services(
            settings=settings, redis=redis, keys=keys, store=store, bus=bus, router=router,
            presence=presence, conversations=conversations,
            signer=TokenSigner(await _shared_secret(redis, keys, settings.secret)),
            directory=directory, queue_board=QueueBoard(bus, conversations, keys.queue_channel),
            embedded=embedded)
        await services.queue_board.start()
        await router.start()
        await presence.start()
    except BaseException:
        await redis.aclose()
        if embedded is not None:
            await embedded.stop()
        raise
    log.info("gateway services started with %d agents", len(directory), extra={"node": settings.node_id})
    return services


async def stop(services: Services) -> None:
    """Stop everything in reverse order; a step that fails (Redis gone) does not stop the rest."""
    steps = [services.presence.stop, services.router.stop, services.queue_board.stop, services.bus.stop,
             services.redis.aclose]
    if services.embedded is not None:
        steps.append(services.embedded.stop)
    for step in steps:
        try:
            await step()
        except (aioredis.RedisError, OSError) as exc:
            log.warning("shutdown step %s failed: %s", getattr(step, "__qualname__", step), exc)
