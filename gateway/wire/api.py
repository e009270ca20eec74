"""The HTTP API described as data: each route module declares its :class:`Operation` s (method, path, handler,
parameters, request body, answers with their JSON Schemas, who may call it) next to its handlers and registers
them with :func:`register`; the OpenAPI 3.1 document at ``GET /api/openapi.json`` is assembled from what was
registered, so a route cannot be added without its description (and tests/integration/test_openapi.py fails on
a route added another way).

To describe a new route: in its module, replace ``app.router.add_get(path, handler)`` by an
``Operation("GET", path, handler, "what it does", tag=..., auth=..., answers=(Answer(200, ..., ref("Shape")),),
problems={401: ..., 403: ...})`` in the module's ``operations()``, and add any new shape to
gateway/wire/api_shapes.py ``SCHEMAS``.

Errors are problem JSON (the ``problem_json`` middleware of gateway/wire/routes.py): ``problems`` lists the
statuses an operation answers that way, each with when; every operation also answers ``5XX`` (``internal`` with a
``request_id``, ``store_unavailable`` with ``retry_after``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

from gateway import __version__
from gateway.wire.api_shapes import SCHEMAS, Schema, ref

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Security schemes: an operation's ``auth`` names some of these (any one of them will do).
AGENT = "agent"  # a login session's access token (POST /api/agent/login)
AGENT_QUERY = "agentQuery"  # the same token as ?token= (an <audio> element cannot send a header)
CUSTOMER = "customer"  # the widget's customer token (the welcome frame of /ws/customer)
METRICS = "metrics"  # the scraper's --metrics-token

SECURITY_SCHEMES: dict[str, Schema] = {
    AGENT: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "gateway access token",
        "description": "An agent's access token from POST /api/agent/login (or /api/agent/refresh): short-lived "
        "(`expires_in` seconds), valid while its login session lives. Roles (agent, supervisor, admin) are the "
        "account's (admin console, `contact-gateway agents`); an operation that needs one says so.",
    },
    AGENT_QUERY: {
        "type": "apiKey",
        "in": "query",
        "name": "token",
        "description": "The agent's access token in the URL, for an <audio> element (recordings only).",
    },
    CUSTOMER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "gateway customer token",
        "description": "The customer token the gateway gave the widget (the `welcome` frame of /ws/customer). "
        "A website's signed customer token (site token) is only ever sent in the socket's `hello`.",
    },
    METRICS: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "the gateway's --metrics-token",
        "description": "The operator's metrics token (setting metrics_token), for a Prometheus scraper elsewhere.",
    },
}

PROBLEM_STATUSES: dict[int, str] = {
    400: "bad input (problem JSON naming the `field`)",
    401: "no valid token: missing, forged, expired, or its session ended",
    403: "the token is valid but does not allow this",
    404: "no such thing (or not one this caller may know of)",
    409: "the state does not allow it now",
    429: "over a limit: `retry_after` seconds (and a Retry-After header)",
}

Where = Literal["query", "path", "header"]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    where: Where
    description: str
    schema: Schema = field(default_factory=lambda: {"type": "string"})
    required: bool = False

    def to_openapi(self) -> Schema:
        out: Schema = {"name": self.name, "in": self.where, "description": self.description, "schema": self.schema}
        if self.required or self.where == "path":
            out["required"] = True
        return out


def path_param(name: str, description: str, pattern: str | None = None) -> Param:
    schema: Schema = {"type": "string", **({"pattern": pattern} if pattern else {})}
    return Param(name, "path", description, schema, required=True)


@dataclass(frozen=True, slots=True)
class Body:
    """A request body: a JSON object by its schema, or raw bytes (``media_type`` ``application/octet-stream``)."""

    description: str
    schema: Schema
    media_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Answer:
    """One documented answer: status, what it means, and its body (None: no body)."""

    status: int
    description: str
    schema: Schema | None = None
    media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)  # header name -> description
    alternatives: Mapping[str, Schema] = field(default_factory=dict)  # other media types it may come as -> schema


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str  # the aiohttp route path; its {name} placeholders are OpenAPI's too
    handler: Handler | None  # None: registered by the module another way (static files), described here
    summary: str
    tag: str
    auth: tuple[str, ...] = ()  # security scheme names, any one will do; () public
    auth_optional: bool = False  # also callable without a token (it then answers less)
    description: str = ""
    params: tuple[Param, ...] = ()
    body: Body | None = None
    answers: tuple[Answer, ...] = ()
    problems: Mapping[int, str] = field(default_factory=dict)  # status -> when (problem JSON)
    problem_json: bool = True  # False: aiohttp's own plain-text errors only (static files, socket upgrades)

    @property
    def operation_id(self) -> str:
        words = [w.strip("{}") for w in self.path.strip("/").replace(".", "_").split("/") if w]
        return self.method.lower() + "".join(w[:1].upper() + w[1:].replace("-", "_") for w in words)

    def to_openapi(self) -> Schema:
        out: Schema = {"operationId": self.operation_id, "summary": self.summary, "tags": [self.tag]}
        if self.description:
            out["description"] = self.description
        if self.params:
            out["parameters"] = [p.to_openapi() for p in self.params]
        if self.body is not None:
            out["requestBody"] = {
                "required": True,
                "description": self.body.description,
                "content": {self.body.media_type: {"schema": self.body.schema}},
            }
        responses: Schema = {str(a.status): _answer(a) for a in self.answers}
        for status, when in sorted(self.problems.items()):
            responses[str(status)] = {"description": when, "content": {"application/json": {"schema": ref("Problem")}}}
        if self.problem_json:
            responses["5XX"] = {
                "description": "`internal` (a bug; quote its `request_id`) or `store_unavailable` (Redis is down "
                "for a moment: nothing was done, try again after `retry_after` seconds)",
                "content": {"application/json": {"schema": ref("Problem")}},
            }
        out["responses"] = responses
        if self.auth:
            out["security"] = [{name: []} for name in self.auth] + ([{}] if self.auth_optional else [])
        else:
            out["security"] = []
        return out


def _answer(a: Answer) -> Schema:
    out: Schema = {"description": a.description}
    if a.schema is not None:
        out["content"] = {a.media_type: {"schema": a.schema}}
        out["content"].update({media: {"schema": schema} for media, schema in a.alternatives.items()})
    if a.headers:
        out["headers"] = {name: {"description": d, "schema": {"type": "string"}} for name, d in a.headers.items()}
    return out


def problems(*statuses: int, **when: str) -> dict[int, str]:
    """Problem answers by status with the standard meaning (``when`` overrides one: ``s403="..."``)."""
    return {s: when.get(f"s{s}", PROBLEM_STATUSES[s]) for s in statuses}


@dataclass(slots=True)
class _Built:
    """The served document, built on the first request (every route is registered by then)."""

    body: bytes = b""
    etag: str = ""


OPERATIONS = web.AppKey("api_operations", list[Operation])
_DOCUMENT = web.AppKey("api_document", _Built)


def answers_head(op: Operation) -> bool:
    """Pages, health and the widget answer HEAD too, as aiohttp's add_get gives it (uptime monitors, load
    balancers, link checkers: 405 read as "down"); not the API nor /metrics, whose GET does the work (a report
    computed, a recording's play logged) for a HEAD that wants none of it."""
    return op.method == "GET" and not op.path.startswith("/api/") and op.path != "/metrics"


def _head_of(get: Schema) -> Schema:
    """The HEAD operation beside a GET: its answers' statuses and headers, no body."""
    out = {**get, "operationId": "head" + get["operationId"].removeprefix("get"), "summary": "HEAD: " + get["summary"]}
    out["responses"] = {
        status: {k: v for k, v in answer.items() if k != "content"} for status, answer in get["responses"].items()
    }
    return out


def register(app: web.Application, operations: Iterable[Operation]) -> None:
    """Add each operation's route (unless it is registered another way) and keep its description."""
    described = app.setdefault(OPERATIONS, [])
    for op in operations:
        if op.handler is not None and op.method == "GET":
            app.router.add_get(op.path, op.handler, allow_head=answers_head(op))
        elif op.handler is not None:
            app.router.add_route(op.method, op.path, op.handler)
        described.append(op)


def document(operations: Iterable[Operation]) -> Schema:
    """The OpenAPI 3.1 document of these operations (and every shape of gateway/wire/api_shapes.py)."""
    paths: dict[str, Schema] = {}
    for op in operations:
        described = paths.setdefault(op.path, {})
        described[op.method.lower()] = op.to_openapi()
        if answers_head(op):
            described["head"] = _head_of(described["get"])
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Contact gateway HTTP API",
            "version": __version__,
            "description": "Every HTTP endpoint of a gateway node. The sockets (/ws/customer, /ws/agent) carry the "
            "frames of docs/protocol.md. Errors are problem JSON: `{code, message, field?, retry_after?, "
            "request_id?}` with `code` one of ErrorCode.",
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
    }


async def openapi_json(request: web.Request) -> web.Response:
    """The document (the same for every request: no secret, nothing per caller in it), cacheable."""
    built = request.app[_DOCUMENT]
    if not built.body:
        operations: list[Operation] = request.app[OPERATIONS]
        built.body = json.dumps(document(operations), indent=1, ensure_ascii=False).encode()
        built.etag = '"' + hashlib.sha256(built.body).hexdigest()[:32] + '"'
    headers = {"Cache-Control": "public, max-age=300", "ETag": built.etag}
    if built.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    return web.Response(body=built.body, headers=headers, content_type="application/json")


def add_routes(app: web.Application) -> None:
    app[_DOCUMENT] = _Built()
    register(
        app,
        [
            Operation(
                "GET",
                "/api/openapi.json",
                openapi_json,
                "This document: every HTTP endpoint of the gateway, OpenAPI 3.1",
                tag="meta",
                answers=(
                    Answer(200, "the OpenAPI document", {"type": "object"}, headers={"ETag": "of this document"}),
                    Answer(304, "unchanged since the If-None-Match ETag"),
                ),
            )
        ],
    )
