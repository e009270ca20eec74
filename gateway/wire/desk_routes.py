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
from gateway.contact.canned import SHORTCUT, check_shortcut, parse_canned
from gateway.contact.conversations import CONVERSATION_ID
from gateway.contact.history import CURSOR_PATTERN, MAX_LIMIT, SEARCH_COSTS, Cursor, SearchQuery
from gateway.errors import BadRequest, Forbidden, NotFound
from gateway.json_input import check_text
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import ConversationState
from gateway.store.words import words
from gateway.wire import api
from gateway.wire.api import AGENT, PROBLEM_STATUSES, Answer, Body, Operation, Param, path_param, problems, ref
from gateway.wire.api_shapes import enum_of
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


query_params = _query  # the other route modules' way to the same checks (gateway/wire/admin_agents.py)


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


def _search_params() -> tuple[Param, ...]:
    text = {"type": "string", "maxLength": MAX_ID_CHARS}
    return (
        Param(
            "q",
            "query",
            f"words that must all be in a message, note or transcript line (whole words, casefolded; at most "
            f"{MAX_QUERY_CHARS} characters, {MAX_QUERY_WORDS} words)",
            {"type": "string", "maxLength": MAX_QUERY_CHARS},
        ),
        Param("customer", "query", "the customer's id", text),
        Param("agent", "query", "the conversation's last agent (who has or closed it)", text),
        Param("queue", "query", "the conversation's queue", text),
        Param("state", "query", "the conversation's state now", enum_of(ConversationState)),
        Param("from", "query", "created at or after (epoch ms)", {"type": "integer", "minimum": 0, "maximum": MAX_MS}),
        Param("to", "query", "created at or before (epoch ms)", {"type": "integer", "minimum": 0, "maximum": MAX_MS}),
        Param("cursor", "query", "the `next` of the previous page", {"type": "string", "pattern": CURSOR_PATTERN}),
        Param("limit", "query", "results a page holds", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
    )


def operations() -> list[Operation]:
    """The desk's routes, described (gateway/wire/api.py)."""
    shortcut = path_param("shortcut", "the canned response's shortcut", SHORTCUT.pattern)
    out = [
        Operation(
            "GET",
            "/api/conversations",
            search,
            "Search conversations, newest first, paged with a stable cursor",
            tag="conversations",
            auth=(AGENT,),
            description=SEARCH_COSTS,
            params=_search_params(),
            answers=(Answer(200, "a page of conversations", ref("ConversationPage")),),
            problems=problems(400, 401, s400="a bad, unknown or repeated parameter (`field` names it)"),
        ),
        Operation(
            "GET",
            "/api/conversations/{cid}",
            conversation,
            "One conversation whole, read-only: its summary and every event (notes too)",
            tag="conversations",
            auth=(AGENT,),
            params=(path_param("cid", "the conversation id", CONVERSATION_ID.pattern),),
            answers=(Answer(200, "the conversation", ref("Conversation")),),
            problems=problems(401, 404),
        ),
        Operation(
            "GET",
            "/api/canned",
            canned_list,
            "The shared canned responses and the agent's own",
            tag="canned",
            auth=(AGENT,),
            answers=(Answer(200, "both sets, each sorted by shortcut", ref("CannedList")),),
            problems=problems(401),
        ),
    ]
    for scope, who in (("shared", "supervisors only"), ("personal", "the agent's own set")):
        over = "a supervisor's token is needed" if scope == "shared" else PROBLEM_STATUSES[403]
        path = f"/api/canned/{scope}/{{shortcut}}"
        same: dict[str, Any] = {"tag": "canned", "auth": (AGENT,), "params": (shortcut,)}
        out += [
            Operation(
                "PUT",
                path,
                _canned_write(scope, delete=False),
                f"Store a {scope} canned response ({who})",
                **same,
                body=Body("the response; variables {{ customer.name | fallback }} ...", ref("CannedInput")),
                answers=(Answer(200, "stored", ref("Canned")),),
                problems=problems(400, 401, 403, 409, s403=over, s409="the set is full"),
            ),
            Operation(
                "DELETE",
                path,
                _canned_write(scope, delete=True),
                f"Delete a {scope} canned response ({who})",
                **same,
                answers=(Answer(200, "deleted", ref("Status")),),
                problems=problems(400, 401, 403, 404, s403=over),
            ),
        ]
    return out


def add_routes(app: web.Application) -> None:
    api.register(app, operations())
