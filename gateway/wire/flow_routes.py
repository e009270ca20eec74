"""The admin console's flow API: versions, validate, graph, publish and roll back, diff, replay, and which flows
answer new calls and chats.

Writes need an admin's token (role ``admin``); supervisors may read (lists, versions, graphs, diffs). Every write is
in the audit log (gateway/contact/audit.py). Rules: gateway/flows/versions.py; replay: gateway/flows/replays.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from gateway.errors import BadRequest
from gateway.flows.live import Entry
from gateway.flows.replays import DEFAULT_SESSIONS, MAX_SESSIONS, Replays, parse_since
from gateway.flows.versions import MAX_FLOW_BYTES, check_name
from gateway.protocol.states import Role
from gateway.wire import api
from gateway.wire.api import AGENT, Answer, Body, Operation, Param, path_param, problems
from gateway.wire.api_shapes import BOOL, FLOW_ERROR, INT, MS, STR, closed, nullable
from gateway.wire.routes import agent_with_role, read_json
from gateway.wire.services import SERVICES

BODY_BYTES = MAX_FLOW_BYTES + 16 * 1024
VERSION_RE = r"^[0-9a-f]{12}$"


def _text(body: dict[str, Any], name: str, *, required: bool = True, most: int = 500) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or (required and not value):
        raise BadRequest(f"'{name}' is required text", field=name)
    if len(value) > most:
        raise BadRequest(f"'{name}' is over {most} characters", field=name)
    return value


async def flows(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read flows")
    versions = request.app[SERVICES].flow_versions
    # which flows new calls and chats start in (a flow only a goto leads to is live but starts nothing)
    return web.json_response({"flows": await versions.listing(), **versions.answers()})


async def choose(request: web.Request) -> web.Response:
    agent = await agent_with_role(request, Role.ADMIN, doing="change flows")
    body = await read_json(request)
    try:
        entry = Entry(request.match_info["entry"])
    except ValueError:
        raise BadRequest("a flow answers 'calls' or 'chats'", field="entry") from None
    name = None if body.get("flow", "") is None else _text(body, "flow", most=64)  # null: no flow (chats)
    replacing = _text(body, "replacing", required=False, most=64) or None
    versions = request.app[SERVICES].flow_versions
    before = await versions.choose(entry, name, author=agent.id, replacing=replacing)
    return web.json_response({**versions.answers(), "previous": before})


async def flow(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read flows")
    return web.json_response(await request.app[SERVICES].flow_versions.detail(request.match_info["name"]))


async def version(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read flows")
    found = await request.app[SERVICES].flow_versions.version(request.match_info["name"], request.match_info["vid"])
    return web.json_response({**found.summary(), "yaml": found.yaml})


async def graph(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read flows")
    versions = request.app[SERVICES].flow_versions
    return web.json_response(await versions.graph(request.match_info["name"], request.match_info["vid"]))


async def save(request: web.Request) -> web.Response:
    agent = await agent_with_role(request, Role.ADMIN, doing="change flows")
    body = await read_json(request, BODY_BYTES)
    summary, created = await request.app[SERVICES].flow_versions.save(
        check_name(request.match_info["name"]),
        _text(body, "yaml", most=MAX_FLOW_BYTES),
        parent=_text(body, "parent", required=False, most=64),
        author=agent.id,
        message=_text(body, "message", required=False),
    )
    return web.json_response(summary, status=201 if created else 200)


async def validate(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read flows")
    body = await read_json(request, BODY_BYTES)
    name = check_name(_text(body, "name", required=False, most=64) or "flow")
    return web.json_response(
        await request.app[SERVICES].flow_versions.validate(name, _text(body, "yaml", most=MAX_FLOW_BYTES))
    )


async def publish(request: web.Request) -> web.Response:
    agent = await agent_with_role(request, Role.ADMIN, doing="change flows")
    body = await read_json(request)
    name = check_name(request.match_info["name"])
    done = await request.app[SERVICES].flow_versions.publish(name, _text(body, "version", most=64), author=agent.id)
    return web.json_response({"name": done.name, "live_version": done.version, "previous": done.before or None})


async def retire(request: web.Request) -> web.Response:
    agent = await agent_with_role(request, Role.ADMIN, doing="change flows")
    name = check_name(request.match_info["name"])
    was_live = await request.app[SERVICES].flow_versions.retire(name, author=agent.id)
    return web.json_response({"name": name, "retired": True, "was_live": was_live or None})


async def diff(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read flows")
    old, new = request.query.get("from", ""), request.query.get("to", "")
    if not old or not new:
        raise BadRequest("'from' and 'to' name two versions", field="from" if not old else "to")
    versions = request.app[SERVICES].flow_versions
    return web.json_response({"diff": await versions.diff(request.match_info["name"], old, new)})


async def replay(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read flows")
    body = await read_json(request)
    s = request.app[SERVICES]
    since = parse_since(_text(body, "since", required=False, most=40) or "7d", datetime.now(UTC))
    limit = body.get("limit", DEFAULT_SESSIONS)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_SESSIONS:
        raise BadRequest(f"'limit' is a whole number from 1 to {MAX_SESSIONS}", field="limit")
    replays = Replays(s.store, s.flows, s.flow_versions)
    result = await replays.replay(check_name(request.match_info["name"]), _text(body, "version", most=64), since, limit)
    return web.json_response(result.as_dict())


ERROR = FLOW_ERROR
SUMMARY = {"id": STR, "author": STR, "at": MS, "message": STR, "parent": STR}
VERSION = closed(SUMMARY, description="A saved version: content hash id, who, when, why, what it was edited from.")
GRAPH = closed(
    {
        "start": STR,
        "nodes": {
            "type": "array",
            "items": closed({"id": STR, "kind": STR, "line": INT, "end_line": INT, "label": STR}),
        },
        "edges": {"type": "array", "items": closed({"from": STR, "to": STR, "label": STR})},
    },
    description="Nodes with the lines they span; transitions labelled with what takes them.",
)
STEP = closed({"kind": STR, "node": STR, "detail": STR, "flow": STR})


ANSWERS = {
    "answers": closed(
        {"calls": nullable(STR), "chats": nullable(STR)},
        description="the flows new calls and chats start in: an admin's choice, else --voice-flow / --chat-flow "
        "(chats null: they go straight to the agents)",
    ),
    "defaults": closed(
        {"calls": nullable(STR), "chats": nullable(STR)}, description="--voice-flow / --chat-flow of this node"
    ),
    "chosen": closed(
        {"calls": nullable(STR), "chats": nullable(STR)},
        description="what admins chose ('' for chats: no flow, straight to the agents; null: the setting applies)",
    ),
}


def flow_op(method: str, path: str, handler: api.Handler, summary: str, **more: Any) -> Operation:
    """An operation of this API: tag ``flows``, an agent's token (the handler checks the role)."""
    return Operation(method, path, handler, summary, tag="flows", auth=(AGENT,), **more)


def operations() -> list[Operation]:
    name = path_param("name", "the flow's name", r"^[A-Za-z0-9_-]{1,64}$")
    vid = path_param("vid", "a version id (content hash, 12 hex)", VERSION_RE)
    read = problems(400, 401, 403, 404, s403="a token of an agent who is neither admin nor supervisor")
    write = problems(400, 401, 403, 404, s403="a token of an agent who is no admin")
    return [
        flow_op(
            "GET",
            "/api/admin/flows",
            flows,
            "Every flow with its live and newest draft version (admins; supervisors read)",
            answers=(
                Answer(
                    200,
                    "the flows",
                    closed(
                        {
                            "flows": {
                                "type": "array",
                                "items": closed(
                                    {
                                        "name": STR,
                                        "live_version": nullable(STR),
                                        "draft_version": nullable(STR),
                                        "updated_at": MS,
                                        "retired": BOOL,
                                        "was_live": nullable(STR),
                                    }
                                ),
                            },
                            **ANSWERS,
                        }
                    ),
                ),
            ),
            problems=problems(401, 403),
        ),
        flow_op(
            "POST",
            "/api/admin/flows/validate",
            validate,
            "Check a flow's YAML as the loader and the publish rules would; its graph when it loads",
            body=Body(
                "the text; `name` is the flow's name (errors and relative audio)", closed({"yaml": STR}, {"name": STR})
            ),
            answers=(
                Answer(
                    200,
                    "the verdict",
                    closed({"ok": BOOL, "errors": {"type": "array", "items": ERROR}, "graph": nullable(GRAPH)}),
                ),
            ),
            problems=problems(400, 401, 403),
        ),
        flow_op(
            "GET",
            "/api/admin/flows/{name}",
            flow,
            "A flow's versions, oldest first, and which is live",
            params=(name,),
            answers=(
                Answer(
                    200,
                    "the flow",
                    closed(
                        {
                            "name": STR,
                            "live_version": nullable(STR),
                            "head": nullable(STR),
                            "retired": BOOL,
                            "was_live": nullable(STR),
                            "versions": {"type": "array", "items": VERSION},
                        }
                    ),
                ),
            ),
            problems=read,
        ),
        flow_op(
            "POST",
            "/api/admin/flows/{name}/versions",
            save,
            "Save a version (admins): refused whole when it does not load (400 bad_flow with every error's line) or "
            "when another version was saved since `parent` (409 stale_version with `current` and a `diff`)",
            params=(name,),
            body=Body(
                "`parent`: the version the text was edited from ('' for a new flow)",
                closed({"yaml": STR}, {"message": STR, "parent": STR}),
            ),
            answers=(Answer(201, "saved", VERSION), Answer(200, "the same text as the newest: nothing saved", VERSION)),
            problems={**write, 409: "stale_version: `current` is the newest version, `diff` what changed"},
        ),
        flow_op(
            "DELETE",
            "/api/admin/flows/{name}",
            retire,
            "Retire a flow (admins): out of service on every node, listed apart, its versions kept",
            params=(name,),
            description="New calls and chats can no longer reach it; sessions in it finish on their version; "
            "timelines, replays and reports keep naming its versions. Publishing one of its versions brings it "
            "back. Refused (409 conflict, naming why) while it answers new calls or chats (an admin's choice or "
            "the node's --voice-flow / --chat-flow) or a live flow's goto leads to it.",
            answers=(
                Answer(
                    200,
                    "retired",
                    closed({"name": STR, "retired": BOOL, "was_live": nullable(STR)}),
                ),
            ),
            problems={
                **write,
                409: "conflict: it answers new calls or chats, a live flow goes to it, or another publish or "
                "retirement held on too long",
            },
        ),
        flow_op(
            "GET",
            "/api/admin/flows/{name}/versions/{vid}",
            version,
            "One version's text",
            params=(name, vid),
            answers=(Answer(200, "the version", closed({**SUMMARY, "yaml": STR})),),
            problems=read,
        ),
        flow_op(
            "GET",
            "/api/admin/flows/{name}/versions/{vid}/graph",
            graph,
            "One version's graph, built from the loaded model",
            params=(name, vid),
            answers=(Answer(200, "the graph", GRAPH),),
            problems=read,
        ),
        flow_op(
            "POST",
            "/api/admin/flows/{name}/publish",
            publish,
            "Publish a version on every node for new calls and chats (admins); rollback = an earlier id",
            params=(name,),
            description="Refused (400 bad_flow) for a missing queue, an unknown speech word, or a goto to a flow or "
            "entry that is not live. Sessions in progress keep the version they started with. One publish or "
            "retirement at a time on every node: another one waits for it (409 conflict if it held on longer than "
            "its lock lasts).",
            body=Body("the version", closed({"version": STR})),
            answers=(
                Answer(
                    200,
                    "live",
                    closed({"name": STR, "live_version": STR, "previous": nullable(STR)}),
                ),
            ),
            problems={**write, 409: "conflict: another publish or retirement held on too long"},
        ),
        flow_op(
            "PUT",
            "/api/admin/flows/answers/{entry}",
            choose,
            "Choose the flow new calls or new chats start in, on every node (admins)",
            params=(path_param("entry", "calls or chats", r"^(calls|chats)$"),),
            description="Only a published flow may be chosen (400 flow_not_published names the flow and why). "
            "`null` for chats: no flow, new chats go straight to the agents (calls always need a flow: 400 "
            "bad_request). Calls and chats in progress keep the flow they started in. Until an admin chooses, the "
            "node's setting answers (--voice-flow / --chat-flow). `chosen` says what admins chose: a name, '' for "
            "no flow, null for nothing (the setting). Written to the audit log as `flow.answers`.",
            body=Body(
                "the flow (null: none, for chats); `replacing`: the flow the admin saw answering (409 conflict when "
                "another answers now: an admin elsewhere changed it)",
                closed({"flow": nullable(STR)}, optional={"replacing": STR}),
            ),
            answers=(Answer(200, "chosen", closed({**ANSWERS, "previous": nullable(STR)})),),
            problems=problems(
                400,
                401,
                403,
                409,
                s403="a token of an agent who is no admin",
                s409="`replacing` does not answer any more: another admin changed it",
            ),
        ),
        flow_op(
            "GET",
            "/api/admin/flows/{name}/diff",
            diff,
            "The unified diff between two versions",
            params=(
                name,
                Param("from", "query", "the older version", {"type": "string", "pattern": VERSION_RE}, required=True),
                Param("to", "query", "the newer version", {"type": "string", "pattern": VERSION_RE}, required=True),
            ),
            answers=(Answer(200, "the diff", closed({"diff": STR})),),
            problems=problems(400, 401, 403, 404),
        ),
        flow_op(
            "POST",
            "/api/admin/flows/{name}/replay",
            replay,
            "Replay past sessions' inputs against a version: how many end the same way, which paths differ",
            params=(name,),
            description="Sessions recorded before flow steps kept their inputs (or with a webhook answer too big "
            "to keep) are counted apart in `unreplayable`, not guessed at. Test runs are left out.",
            body=Body(
                "`since`: a span (7d, 12h, 30m) or an ISO time; `limit`: at most this many sessions",
                closed({"version": STR}, {"since": STR, "limit": {**INT, "minimum": 1, "maximum": MAX_SESSIONS}}),
            ),
            answers=(
                Answer(
                    200,
                    "the comparison",
                    closed(
                        {
                            "sessions": INT,
                            "same": INT,
                            "differ": {
                                "type": "array",
                                "items": closed(
                                    {
                                        "cid": STR,
                                        "old_version": STR,
                                        "old_path": {"type": "array", "items": STR},
                                        "new_path": {"type": "array", "items": STR},
                                        "steps": {"type": "array", "items": STEP},
                                    }
                                ),
                            },
                            "unreplayable": INT,
                            "unreplayable_sessions": {
                                "type": "array",
                                "items": closed({"cid": STR, "reason": STR}),
                            },
                        }
                    ),
                ),
            ),
            problems=problems(400, 401, 403, 404),
        ),
    ]


def add_routes(app: web.Application) -> None:
    api.register(app, operations())
