"""The aiohttp application factory: routes, middleware, and the services' lifetime."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from gateway import runtime
from gateway.config import Settings
from gateway.logs import quiet_clients_bad_requests
from gateway.protocol.server import CloseCode
from gateway.store.store import StoreError
from gateway.wire import (
    admin_agents,
    agent_socket,
    api,
    attachment_routes,
    code_list_routes,
    customer_routes,
    customer_socket,
    desk_routes,
    flow_routes,
    metrics_route,
    queue_routes,
    report_routes,
    supervisor_routes,
    webhook_routes,
)
from gateway.wire import routes as pages
from gateway.wire.services import SERVICES, SOCKETS, OpenSocket

log = logging.getLogger(__name__)

SHUTDOWN_FLUSH_SECONDS = 3.0  # at most this long for the calls' 'ended' to reach this node's sockets


def create_app(
    settings: Settings, *, clock: Callable[[], int] | None = None, worker: int | None = None
) -> web.Application:
    """The node's application; ``clock``: the services' time in ms (gateway/runtime.py; tests inject one);
    ``worker``: its number among ``serve --workers N`` (None: a lone node)."""
    app = web.Application(middlewares=[pages.problem_json], client_max_size=64 * 1024)
    quiet_clients_bad_requests()  # anybody can send a malformed request: not an error of ours

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        app[SERVICES] = await runtime.start(settings, clock=clock, worker=worker)
        yield
        await runtime.stop(app[SERVICES])

    app[SOCKETS] = set()
    app.cleanup_ctx.append(services_ctx)
    app.on_shutdown.append(_end_calls_then_close_sockets)
    pages.add_routes(app)
    desk_routes.add_routes(app)
    attachment_routes.add_routes(app)
    metrics_route.add_routes(app)
    report_routes.add_routes(app)
    webhook_routes.add_routes(app)
    flow_routes.add_routes(app)
    admin_agents.add_routes(app)
    queue_routes.add_routes(app)
    code_list_routes.add_routes(app)
    supervisor_routes.add_routes(app)
    customer_routes.add_routes(app)
    api.register(app, _sockets())
    api.add_routes(app)  # last: /api/openapi.json describes every route registered through api.register
    return app


def _sockets() -> list[api.Operation]:
    """The two WebSockets: their frames are docs/protocol.md's (OpenAPI describes only the upgrade)."""
    upgrade = (
        api.Answer(101, "switching protocols: frames as docs/protocol.md says"),
        api.Answer(400, "not a WebSocket upgrade (plain text)", {"type": "string"}, "text/plain"),
        api.Answer(429, "too many sockets from this address (too_many_connections)", api.ref("Problem")),
    )
    said = "The token (if any) comes in the first frame, `hello`, never in the URL."
    sockets = (
        (
            "/ws/customer",
            customer_socket.handler,
            "The customer's WebSocket (the widget)",
            " A customer token, or a website's signed customer token (site token), goes there.",
        ),
        ("/ws/agent", agent_socket.handler, "The agent desk's WebSocket", " An agent's access token goes there."),
    )
    return [
        api.Operation(
            "GET", path, handler, summary, tag="sockets", description=said + token, answers=upgrade, problem_json=False
        )
        for path, handler, summary, token in sockets
    ]


async def _end_calls_then_close_sockets(app: web.Application) -> None:
    """Graceful shutdown, in this order: end every call of this node (each publishes its ``ended``, reason
    ``gateway_shutdown``); wait until those messages are in the outboxes of this node's sockets and sent; then
    close the sockets with 1012 (service restart), on which clients reconnect to another node. Customers and
    agents on other nodes get ``ended`` over the bus as usual."""
    services = app[SERVICES]
    await services.calls.close_all()
    open_sockets: set[OpenSocket] = app[SOCKETS]
    sockets = list(open_sockets)
    try:
        async with asyncio.timeout(SHUTDOWN_FLUSH_SECONDS):
            await services.bus.flush(services.keys.node_channel(services.settings.node_id))
            await asyncio.gather(*(conn.sent() for conn in sockets))
    except (TimeoutError, StoreError, OSError) as exc:
        log.warning("closing the sockets without waiting for the calls' end to reach them: %r", exc)
    # all at once: each close waits for that client's reply, and one slow client must not hold up the others
    # (closed one by one, a client not reading yet kept the rest waiting past the runner's shutdown timeout: 1006)
    closing = [conn.ws.close(code=CloseCode.RESTARTING, message=b"gateway restarting") for conn in list(open_sockets)]
    for result in await asyncio.gather(*closing, return_exceptions=True):
        if isinstance(result, Exception):
            log.info("a socket did not close cleanly on shutdown: %r", result)
