"""The aiohttp application factory: routes, middleware, and the services' lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from gateway import runtime
from gateway.config import Settings
from gateway.protocol.server import CloseCode
from gateway.wire import agent_socket, customer_socket
from gateway.wire import routes as pages
from gateway.wire.services import SERVICES, SOCKETS


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[pages.problem_json], client_max_size=64 * 1024)

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        app[SERVICES] = await runtime.start(settings)
        yield
        await runtime.stop(app[SERVICES])

    app[SOCKETS] = set()
    app.cleanup_ctx.append(services_ctx)
    app.on_shutdown.append(_close_sockets)
    pages.add_routes(app)
    app.router.add_get("/ws/customer", customer_socket.handler)
    app.router.add_get("/ws/agent", agent_socket.handler)
    return app


async def _close_sockets(app: web.Application) -> None:
    """Graceful shutdown: tell clients to reconnect (1012: service restart)."""
    sockets: set[web.WebSocketResponse] = app[SOCKETS]
    for ws in list(sockets):
        await ws.close(code=CloseCode.RESTARTING, message=b"gateway restarting")
