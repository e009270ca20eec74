"""The desk's HTTP API beyond the socket: conversation history and search, canned responses.

Every route takes an agent's access token (``Authorization: Bearer``; a customer's token is no agent's: 401).
Reading is for any agent (the desk is shared); shared canned responses are written by supervisors only, personal
ones by their agent only. Query parameters and bodies are checked here, field by field, before anything inward
sees them (unknown or repeated parameters, text that is not UTF-8, sizes, counts): a refusal names the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from aiohttp import web

from gateway.contact.agents import Agent
from gateway.contact.canned import check_shortcut, parse_canned
from gateway.contact.history import MAX_LIMIT, Cursor, SearchQuery
from gateway.errors import BadRequest, Forbidden, NotFound
from gateway.json_input import check_text
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import ConversationState
from gateway.store.words import words
from gateway.wire.routes import agent_of, read_json
from gateway.wire.services import SERVICES

SEARCH_PARAMS = ("q", "customer", "agent", "queue", "state", "from", "to", "cursor", "limit", "token")
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8
MAX_ID_CHARS = 128
MAX_MS = 10**15


def _query(request: web.Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query string as one value per known name: UTF-8, each name at most once, nothing unknown."""
    raw = request.rel_url.raw_query_string
    for part in raw.split("&") if raw else ():
        try:
            unquote_to_bytes(part.replace("+", " ")).decode("utf-8")
        except UnicodeDecodeError:
            name = part.partition("=")[0][:40]
            raise BadRequest(f"'{name}' is not UTF-8 text", field=name, code=ErrorCode.BAD_FIELD) from None
    out: dict[str, str] = {}
    for name, value in request.query.items():
        if name not in allowed:
            raise BadRequest(f"unknown parameter '{name[:40]}'", field=name[:40], code=ErrorCode.BAD_FIELD)
        if name in out:
            raise BadRequest(f"'{name}' is given twice", field=name, code=ErrorCode.BAD_FIELD)
        out[name] = check_text(value, name, multiline=False)
    return out


def _identifier(params: dict[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if len(value) > MAX_ID_CHARS:
        raise BadRequest(f"'{name}' is over {MAX_ID_CHARS} characters", field=name, code=ErrorCode.BAD_FIELD)
    return value


def _integer(params: dict[str, str], name: str, low: int, high: int) -> int | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise BadRequest(f"'{name}' must be a whole number from {low} to {high}", field=name, code=ErrorCode.BAD_FIELD)
    return int(value)


def parse_search(params: dict[str, str]) -> SearchQuery:
    text = params.get("q", "")
    if len(text) > MAX_QUERY_CHARS:
        raise BadRequest(f"'q' is over {MAX_QUERY_CHARS} characters", field="q", code=ErrorCode.BAD_FIELD)
    found = words(text)
    if text.strip() and not found:
        raise BadRequest("'q' holds no word of 2 or more letters or digits", field="q", code=ErrorCode.BAD_FIELD)
    if len(found) > MAX_QUERY_WORDS:
        raise BadRequest(f"'q' has more than {MAX_QUERY_WORDS} words", field="q", code=ErrorCode.BAD_FIELD)
    state = params.get("state", "").strip()
    if state and state not in ConversationState.__members__.values():
        raise BadRequest(f"'state' is one of {', '.join(ConversationState)}", field="state", code=ErrorCode.BAD_FIELD)
    since, until = _integer(params, "from", 0, MAX_MS), _integer(params, "to", 0, MAX_MS)
    if since is not None and until is not None and since > until:
        raise BadRequest("'from' is after 'to'", field="from", code=ErrorCode.BAD_FIELD)
    cursor = params.get("cursor", "").strip()
    return SearchQuery(
        words=tuple(found),
        customer=_identifier(params, "customer"),
        agent=_identifier(params, "agent"),
        queue=_identifier(params, "queue"),
        state=state,
        since=since,
        until=until,
        after=Cursor.parse(cursor) if cursor else None,
        limit=_integer(params, "limit", 1, MAX_LIMIT) or 20,
    )


async def search(request: web.Request) -> web.Response:
    """GET /api/conversations: search, or one customer's conversations (``customer=``), newest first, paged."""
    await agent_of(request)
    query = parse_search(_query(request, SEARCH_PARAMS))
    return web.json_response(await request.app[SERVICES].history.search(query))


async def conversation(request: web.Request) -> web.Response:
    """GET /api/conversations/{cid}: one conversation whole (summary and every event), read-only."""
    agent = await agent_of(request)
    _query(request, ("token",))
    cid = request.match_info["cid"]
    if not cid.isascii() or len(cid) > 64 or not cid.replace("_", "").replace("-", "").isalnum():
        raise NotFound("no such conversation", field="conversation_id")
    body = await request.app[SERVICES].history.read(cid, agent.id, supervisor="supervisor" in agent.roles)
    return web.json_response(body)


async def canned_list(request: web.Request) -> web.Response:
    """GET /api/canned: the shared canned responses and the agent's own."""
    agent = await agent_of(request)
    _query(request, ("token",))
    return web.json_response(await request.app[SERVICES].canned.listing(agent.id))


def _owner(agent: Agent, scope: str) -> str | None:
    """Whose set a write goes to: the shared one (supervisors only) or the agent's own."""
    if scope == "shared":
        if "supervisor" not in agent.roles:
            raise Forbidden("only supervisors manage the shared canned responses")
        return None
    return agent.id


def _canned_write(scope: str, *, delete: bool) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        agent = await agent_of(request)
        owner = _owner(agent, scope)
        shortcut = check_shortcut(request.match_info["shortcut"])
        canned = request.app[SERVICES].canned
        if delete:
            if not await canned.delete(owner, shortcut):
                raise NotFound(f"no canned response '/{shortcut}'", field="shortcut")
            return web.json_response({"status": "deleted"})
        value = parse_canned(await read_json(request))
        return web.json_response(await canned.put(owner, shortcut, value, by=agent.id))

    return handler


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/conversations", search)
    app.router.add_get("/api/conversations/{cid}", conversation)
    app.router.add_get("/api/canned", canned_list)
    for scope in ("shared", "personal"):
        app.router.add_put(f"/api/canned/{scope}/{{shortcut}}", _canned_write(scope, delete=False))
        app.router.add_delete(f"/api/canned/{scope}/{{shortcut}}", _canned_write(scope, delete=True))
