"""``GET /metrics``: the node's metrics in Prometheus' text format, for the operator's scraper.

Who may scrape: with ``--metrics-token`` set, a request carrying ``Authorization: Bearer <that token>`` from any
address, and nobody else (401); unset, clients on this machine only (loopback, not forwarded by a local proxy:
the same rule as ``/api/stats``), everyone else 403. The figures are no customer's data, but they tell a
stranger how busy the center is and which queues it has; a scraper on another machine gets the token. An agent's
token does not open it: a scraper is not a person, and login sessions expire.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from gateway.errors import Forbidden, Unauthorized
from gateway.wire import api
from gateway.wire.api import METRICS, Answer, Operation, problems
from gateway.wire.routes import from_loopback
from gateway.wire.services import SERVICES


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


async def metrics(request: web.Request) -> web.Response:
    s = request.app[SERVICES]
    token = s.settings.metrics_token
    if token is not None:
        if not hmac.compare_digest(_bearer(request).encode(), token.encode()):
            raise Unauthorized("the metrics token is required (Authorization: Bearer ...)", field="token")
    elif not from_loopback(request):
        raise Forbidden("metrics are served on loopback only unless --metrics-token is set")
    body = await s.metrics.exposition()
    if s.worker_metrics is not None:  # one of several workers on this port: every worker's figures
        body = await s.worker_metrics.merged(body)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


def operations() -> list[Operation]:
    return [
        Operation(
            "GET",
            "/metrics",
            metrics,
            "This node's metrics in Prometheus' text format",
            tag="health",
            auth=(METRICS,),
            auth_optional=True,
            description="With --metrics-token set, that token as a bearer from any address; unset, loopback clients only.",
            answers=(Answer(200, "the exposition", {"type": "string"}, CONTENT_TYPE_LATEST.split(";")[0]),),
            problems=problems(
                401,
                403,
                s401="--metrics-token is set and the request does not carry it",
                s403="no --metrics-token and the client is not on this machine",
            ),
        )
    ]


def add_routes(app: web.Application) -> None:
    api.register(app, operations())
