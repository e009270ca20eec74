"""Event webhook subscriptions over REST (rules: gateway/ops/webhooks.py; the wire format: docs/webhooks.md).

Every route takes an agent's access token (``Authorization: Bearer``). Admins (an agent whose roles hold ``admin``)
create, update and delete subscriptions, each write recorded in the audit log (``webhook.create`` / ``.update`` /
``.delete``, the URL only as far as its host, never the secret); admins and supervisors read them and their delivery
logs, supervisors each URL only as far as its host (a path or query is often a credential). No answer ever holds a
secret but the one to the write that set it (a generated one is shown only there).
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from gateway.errors import BadRequest
from gateway.ops.webhook_delivery import LOG_CAP
from gateway.ops.webhooks import MAX_DESCRIPTION_CHARS, MAX_URL_CHARS, SECRET_CHARS, Subscription, WebhookEvent
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import Role
from gateway.wire import api
from gateway.wire.api import AGENT, Answer, Body, Operation, Param, path_param, problems
from gateway.wire.api_shapes import BOOL, INT, MS, STR, Schema, closed, enum_of, nullable, ref
from gateway.wire.routes import agent_with_role, read_json
from gateway.wire.services import SERVICES

log = logging.getLogger(__name__)


def _limit(request: web.Request) -> int:
    for name in request.query:
        if name not in ("limit", "token"):
            raise BadRequest(f"unknown parameter '{name[:40]}'", field=name[:40], code=ErrorCode.BAD_FIELD)
    text = request.query.get("limit", str(LOG_CAP))
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= LOG_CAP:
        raise BadRequest(f"'limit' must be a whole number from 1 to {LOG_CAP}", field="limit", code=ErrorCode.BAD_FIELD)
    return int(text)


async def listing(request: web.Request) -> web.Response:
    """GET /api/webhooks: every subscription (no secrets; supervisors see each URL only as far as its host)."""
    agent = await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read webhook subscriptions")
    subs = await request.app[SERVICES].webhooks.listing()
    return web.json_response({"webhooks": [s.public(full_url=agent.has(Role.ADMIN)) for s in subs]})


def _audited(sub: Subscription, *, secret_set: bool = False) -> dict[str, Any]:
    """A subscription as the audit log keeps it: its URL only as far as its host (supervisors read the audit log),
    never its secret (``secret`` says only that one was set: the audit log writes ``***``)."""
    shown = sub.public(full_url=False)
    if secret_set:
        shown["secret"] = "set"
    return shown


async def create(request: web.Request) -> web.Response:
    """POST /api/webhooks: a new subscription; 201 with it and its secret (shown this once)."""
    agent = await agent_with_role(request, Role.ADMIN, doing="manage webhook subscriptions")
    s = request.app[SERVICES]
    sub = await s.webhooks.create(await read_json(request))
    await s.audit.record(agent.id, "webhook.create", sub.id, None, _audited(sub, secret_set=True))
    log.info("webhook %s created", sub.id, extra={"agent_id": agent.id})
    return web.json_response({"webhook": sub.public(), "secret": sub.secret}, status=201)


async def update(request: web.Request) -> web.Response:
    """PATCH /api/webhooks/{id}: change any of url, secret, events, enabled, description."""
    agent = await agent_with_role(request, Role.ADMIN, doing="manage webhook subscriptions")
    s = request.app[SERVICES]
    body: dict[str, Any] = await read_json(request)
    before = await s.webhooks.get(request.match_info["id"])
    sub = await s.webhooks.update(request.match_info["id"], body)
    await s.audit.record(
        agent.id, "webhook.update", sub.id, _audited(before), _audited(sub, secret_set="secret" in body)
    )
    log.info("webhook %s updated", sub.id, extra={"agent_id": agent.id})
    out: dict[str, Any] = {"webhook": sub.public()}
    if "secret" in body:
        out["secret"] = sub.secret
    return web.json_response(out)


async def delete(request: web.Request) -> web.Response:
    """DELETE /api/webhooks/{id}: the subscription and its delivery log; its queued deliveries are dropped as each
    outbox comes up (none is sent: the subscription is gone)."""
    agent = await agent_with_role(request, Role.ADMIN, doing="manage webhook subscriptions")
    s = request.app[SERVICES]
    before = await s.webhooks.get(request.match_info["id"])
    await s.webhooks.delete(before.id)
    await s.audit.record(agent.id, "webhook.delete", before.id, _audited(before), None)
    log.info("webhook %s deleted", before.id, extra={"agent_id": agent.id})
    return web.json_response({"status": "deleted"})


async def deliveries(request: web.Request) -> web.Response:
    """GET /api/webhooks/{id}/deliveries: the latest attempts, newest first (capped)."""
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read webhook subscriptions")
    limit = _limit(request)
    found = await request.app[SERVICES].webhooks.deliveries(request.match_info["id"], limit)
    return web.json_response({"deliveries": found})


# ---------------------------------------------------------------- the description (gateway/wire/api.py)

EVENTS: Schema = {"type": "array", "items": enum_of(WebhookEvent), "minItems": 1, "uniqueItems": True}
WEBHOOK: Schema = closed(
    {
        "id": STR,
        "url": {**STR, "description": "admins: the whole URL; supervisors: only scheme://host[:port]/…"},
        "events": EVENTS,
        "enabled": BOOL,
        "description": STR,
        "created_ms": MS,
        "updated_ms": MS,
    },
    description="An event webhook subscription (never its secret); docs/webhooks.md.",
)
_FIELDS: dict[str, Schema] = {
    "url": {**STR, "maxLength": MAX_URL_CHARS, "description": "absolute http(s) URL; public unless --webhook-allow"},
    "events": EVENTS,
    "secret": {**STR, "minLength": SECRET_CHARS[0], "maxLength": SECRET_CHARS[1], "description": "left out: generated"},
    "enabled": BOOL,
    "description": {**STR, "maxLength": MAX_DESCRIPTION_CHARS},
}
CREATE: Schema = closed(
    {"url": _FIELDS["url"], "events": EVENTS}, {k: _FIELDS[k] for k in ("secret", "enabled", "description")}
)
UPDATE: Schema = {"type": "object", "properties": _FIELDS, "additionalProperties": False, "minProperties": 1}
DELIVERY: Schema = closed(
    {
        "time": {**STR, "description": "when the attempt ended (UTC, ISO 8601)"},
        "event_id": {**STR, "description": "the event's id (its X-Gateway-Event-Id)"},
        "event": enum_of(WebhookEvent),
        "conversation_id": STR,
        "attempt": {**INT, "minimum": 1},
        "status": nullable(INT),
        "latency_ms": {**INT, "minimum": 0},
        "error": nullable(STR),
        "outcome": enum_of(["delivered", "retry", "gave_up"]),
        "node": {**STR, "description": "the gateway node that made the attempt"},
    },
    description="One delivery attempt.",
)
_ID = path_param("id", "the subscription's id (`wh_` and 16 hex, or a seed file's name)", r"^[A-Za-z0-9_-]{1,64}$")
_ADMINS = "an admin's token is needed"
_READERS = "an admin's or a supervisor's token is needed"


def operations() -> list[Operation]:
    tag = "webhooks"
    return [
        Operation(
            "GET",
            "/api/webhooks",
            listing,
            "Every event webhook subscription (admins and supervisors)",
            tag=tag,
            auth=(AGENT,),
            answers=(
                Answer(
                    200, "the subscriptions, oldest first", closed({"webhooks": {"type": "array", "items": WEBHOOK}})
                ),
            ),
            problems=problems(401, 403, s403=_READERS),
        ),
        Operation(
            "POST",
            "/api/webhooks",
            create,
            "Subscribe a URL to event types (admins)",
            tag=tag,
            auth=(AGENT,),
            description="The URL must reach a public address (or one --webhook-allow lists): its host is resolved now, "
            "and again at every delivery. The answer holds the secret, this once.",
            body=Body("the subscription", CREATE),
            answers=(Answer(201, "created", closed({"webhook": WEBHOOK, "secret": STR})),),
            problems=problems(400, 401, 403, 429, s403=_ADMINS, s429="there are as many subscriptions as allowed"),
        ),
        Operation(
            "PATCH",
            "/api/webhooks/{id}",
            update,
            "Change a subscription (admins): any of its fields; enabled false drops what was queued for it",
            tag=tag,
            auth=(AGENT,),
            params=(_ID,),
            body=Body("the fields to change", UPDATE),
            answers=(
                Answer(
                    200,
                    "changed (with the secret when the body set one)",
                    closed({"webhook": WEBHOOK}, {"secret": STR}),
                ),
            ),
            problems=problems(400, 401, 403, 404, s403=_ADMINS),
        ),
        Operation(
            "DELETE",
            "/api/webhooks/{id}",
            delete,
            "Delete a subscription, its queued deliveries and its delivery log (admins)",
            tag=tag,
            auth=(AGENT,),
            params=(_ID,),
            answers=(Answer(200, "deleted", ref("Status")),),
            problems=problems(401, 403, 404, s403=_ADMINS),
        ),
        Operation(
            "GET",
            "/api/webhooks/{id}/deliveries",
            deliveries,
            "A subscription's latest delivery attempts, newest first (admins and supervisors)",
            tag=tag,
            auth=(AGENT,),
            params=(
                _ID,
                Param("limit", "query", "attempts to return", {"type": "integer", "minimum": 1, "maximum": LOG_CAP}),
            ),
            answers=(Answer(200, "the attempts", closed({"deliveries": {"type": "array", "items": DELIVERY}})),),
            problems=problems(400, 401, 403, 404, s403=_READERS),
        ),
    ]


def add_routes(app: web.Application) -> None:
    api.register(app, operations())
