"""The admin API for agents and the audit log, and an agent's own password (gateway/wire/agent_admin.py does the
writes).

Who may: writes need the ``admin`` role; the lists (agents, audit log) are also for supervisors, read-only.
Every write is one audit entry. Bodies are checked field by field (400 naming the field, nothing stored).

The one-time password flow: an admin sets a password (``POST /api/admin/agents/{id}/password``): the agent's
sessions end; their login with it answers 403 ``password_change_required``; the desk then asks for a new one and
sends ``POST /api/agent/password`` ``{agent_id, current, new}`` without a token (the one-time password is the
credential, counted against the login limits like a login), then logs in with the new password. A logged-in agent
changes theirs with a token and ``{current, new}``.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from gateway.contact.agents import Agent
from gateway.contact.audit import ENTRY_ID, MAX_LIMIT
from gateway.errors import BadRequest
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import Role
from gateway.wire import api
from gateway.wire.agent_admin import check_changes
from gateway.wire.api import AGENT, Answer, Body, Operation, Param, path_param, problems, ref
from gateway.wire.desk_routes import query_params
from gateway.wire.routes import agent_with_role, read_json
from gateway.wire.services import SERVICES
from gateway.wire.sessions import authenticate

AGENT_PATTERN = "^[a-z0-9][a-z0-9_.-]{0,31}$"


async def _shown(request: web.Request, agent: Agent) -> dict[str, Any]:
    s = request.app[SERVICES]
    return {**agent.public(), "sessions": await s.sessions.listing(agent.id, now=time.time())}


async def list_agents(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read the agents")
    query_params(request, ())
    agents = await request.app[SERVICES].directory.listing()
    return web.json_response({"agents": [await _shown(request, a) for a in agents]})


async def add_agent(request: web.Request) -> web.Response:
    admin = await agent_with_role(request, Role.ADMIN, doing="manage agents")
    body = await read_json(request)
    allowed = {"id", "name", "password", "capacity", "skills", "roles", "must_change_password"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"unknown field '{unknown[0][:40]}'", field=unknown[0][:40], code=ErrorCode.BAD_FIELD)
    one_time = body.get("must_change_password", True)  # an admin's password for someone else: one-time
    if not isinstance(one_time, bool):
        raise BadRequest(
            "'must_change_password' must be true or false", field="must_change_password", code=ErrorCode.BAD_FIELD
        )
    agent = await request.app[SERVICES].agent_admin.add(
        admin.id,
        agent_id=body.get("id"),
        password=body.get("password"),
        name=body.get("name"),
        capacity=body.get("capacity", 3),
        skills=body.get("skills"),
        roles=body.get("roles"),
        one_time=one_time,
    )
    return web.json_response(await _shown(request, agent), status=201)


async def update_agent(request: web.Request) -> web.Response:
    admin = await agent_with_role(request, Role.ADMIN, doing="manage agents")
    agent_id = request.match_info["agent_id"]
    body = await read_json(request)
    changes = check_changes(body)  # every field checked first (400 naming it), then what the edit would do
    if agent_id == admin.id and changes.get("disabled") is True:
        raise BadRequest("an admin cannot disable themselves", field="disabled")
    if agent_id == admin.id and Role.ADMIN.value not in changes.get("roles", (Role.ADMIN.value,)):
        raise BadRequest("an admin cannot drop their own admin role", field="roles")
    agent = await request.app[SERVICES].agent_admin.update(admin.id, agent_id, body)
    return web.json_response(await _shown(request, agent))


async def remove_agent(request: web.Request) -> web.Response:
    admin = await agent_with_role(request, Role.ADMIN, doing="manage agents")
    agent_id = request.match_info["agent_id"]
    if agent_id == admin.id:
        raise BadRequest("an admin cannot remove themselves", field="id", code=ErrorCode.BAD_FIELD)
    await request.app[SERVICES].agent_admin.remove(admin.id, agent_id)
    return web.Response(status=204)


async def reset_password(request: web.Request) -> web.Response:
    admin = await agent_with_role(request, Role.ADMIN, doing="manage agents")
    body = await read_json(request)
    if set(body) - {"password"}:
        raise BadRequest("only 'password' is taken", field=sorted(set(body) - {"password"})[0][:40])
    await request.app[SERVICES].agent_admin.reset_password(
        admin.id, request.match_info["agent_id"], body.get("password")
    )
    return web.Response(status=204)


async def change_own_password(request: web.Request) -> web.Response:
    """With a token: ``{current, new}``; without one: ``{agent_id, current, new}`` (a one-time password)."""
    s = request.app[SERVICES]
    body = await read_json(request)
    unknown = sorted(set(body) - {"agent_id", "current", "new"})
    if unknown:
        raise BadRequest(f"unknown field '{unknown[0][:40]}'", field=unknown[0][:40], code=ErrorCode.BAD_FIELD)
    current = body.get("current")
    if not isinstance(current, str) or not current or len(current) > 256:
        raise BadRequest("'current' is required", field="current", code=ErrorCode.MISSING_FIELD)
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        agent, session = await authenticate(
            header[7:].strip(), signer=s.signer, sessions=s.sessions, directory=s.directory, now=time.time()
        )
        await s.agent_admin.change_own(agent.id, current, body.get("new"), keep_session=session.id)
        return web.Response(status=204)
    agent_id = body.get("agent_id")
    if not isinstance(agent_id, str) or not agent_id or len(agent_id) > 64:
        raise BadRequest("'agent_id' is required without a token", field="agent_id", code=ErrorCode.MISSING_FIELD)
    address = s.login_limits.address(request)
    await s.login_limits.attempt(agent_id, address)  # the current password is guessed like a login's
    await s.agent_admin.change_own(agent_id, current, body.get("new"))
    await s.login_limits.succeeded(agent_id, address)
    return web.Response(status=204)


async def audit(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read the audit log")
    params = query_params(request, ("limit", "before", "target"))
    limit_text = params.get("limit", "50")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise BadRequest(f"'limit' is a whole number from 1 to {MAX_LIMIT}", field="limit", code=ErrorCode.BAD_FIELD)
    before = params.get("before") or None
    if before is not None and not ENTRY_ID.fullmatch(before):
        raise BadRequest("'before' is a cursor from an earlier page's 'next'", field="before", code=ErrorCode.BAD_FIELD)
    target = params.get("target", "")
    if len(target) > 128:
        raise BadRequest("'target' is at most 128 characters", field="target", code=ErrorCode.BAD_FIELD)
    page = await request.app[SERVICES].audit.page(limit=int(limit_text), before=before, target=target)
    return web.json_response({"entries": page.entries, "next": page.next})


def operations() -> list[Operation]:
    agent_id = path_param("agent_id", "the agent's id", AGENT_PATTERN)
    admin_only = "a token of an agent who is no admin (or the caller's own account: 400)"
    readers = "a token of an agent who is neither admin nor supervisor"
    return [
        Operation(
            "GET",
            "/api/admin/agents",
            list_agents,
            "Admins and supervisors (read-only): every agent, with who is logged in where",
            tag="admin",
            auth=(AGENT,),
            answers=(Answer(200, "the agents, by id", ref("AdminAgents")),),
            problems=problems(400, 401, 403, s403=readers),
        ),
        Operation(
            "POST",
            "/api/admin/agents",
            add_agent,
            "Admins: add an agent; they can log in at once on every node (with a one-time password by default: the "
            "first login must change it)",
            tag="admin",
            auth=(AGENT,),
            body=Body("the new agent", ref("NewAgent")),
            answers=(Answer(201, "added", ref("AdminAgent")),),
            problems=problems(
                400,
                401,
                403,
                409,
                s400="a bad field (`field` names it; `weak_password`: under 10 characters or a breached one)",
                s403=admin_only,
                s409="an agent with this `id` exists",
            ),
        ),
        Operation(
            "PATCH",
            "/api/admin/agents/{agent_id}",
            update_agent,
            "Admins: edit an agent's name, capacity, skills, roles; disable (their sessions end at once everywhere)",
            tag="admin",
            auth=(AGENT,),
            params=(agent_id,),
            body=Body("the fields to change", ref("AgentPatch")),
            answers=(Answer(200, "the agent now", ref("AdminAgent")),),
            problems=problems(400, 401, 403, 404, s403=admin_only),
        ),
        Operation(
            "DELETE",
            "/api/admin/agents/{agent_id}",
            remove_agent,
            "Admins: remove an agent; their sessions end at once on every node (desks closed, tokens refused)",
            tag="admin",
            auth=(AGENT,),
            params=(agent_id,),
            answers=(Answer(204, "removed"),),
            problems=problems(400, 401, 403, 404, s403=admin_only),
        ),
        Operation(
            "POST",
            "/api/admin/agents/{agent_id}/password",
            reset_password,
            "Admins: set a one-time password; the agent's sessions end and they must change it at their next login",
            tag="admin",
            auth=(AGENT,),
            params=(agent_id,),
            description="The agent's next login with it answers 403 `password_change_required`; they change it with "
            "POST /api/agent/password `{agent_id, current, new}` (no token), then log in.",
            body=Body("the one-time password", ref("OneTimePassword")),
            answers=(Answer(204, "set"),),
            problems=problems(400, 401, 403, 404, s403=admin_only),
        ),
        Operation(
            "POST",
            "/api/agent/password",
            change_own_password,
            "An agent changes their own password (with a token), or replaces a one-time password (without one)",
            tag="agents",
            auth=(AGENT,),
            auth_optional=True,
            description="With a token: `{current, new}`; the agent's other sessions end. Without: `{agent_id, "
            "current, new}` after a login answered `password_change_required`; counted against the login limits.",
            body=Body("the current and the new password", ref("OwnPassword")),
            answers=(Answer(204, "changed: log in with the new password"),),
            problems=problems(
                400, 401, 429, s400="`weak_password` (field `new`), or a missing field", s401="wrong current password"
            ),
        ),
        Operation(
            "GET",
            "/api/admin/audit",
            audit,
            "Admins and supervisors (read-only): the audit log, newest first",
            tag="admin",
            auth=(AGENT,),
            params=(
                Param(
                    "limit",
                    "query",
                    f"entries per page, 1-{MAX_LIMIT} (default 50)",
                    {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                ),
                Param(
                    "before",
                    "query",
                    "the `next` of the previous page",
                    {"type": "string", "pattern": ENTRY_ID.pattern},
                ),
                Param(
                    "target",
                    "query",
                    "only the entries about this: an exact target (an agent id, `queue:<name>`, `flow:<name>`, "
                    "a webhook id, `widget`), or a bare name for every `kind:name` target of that name "
                    "(`billing` finds `queue:billing` and `flow:billing`, and an agent called billing)",
                ),
            ),
            answers=(Answer(200, "a page of entries", ref("AuditPage")),),
            problems=problems(400, 401, 403, s403=readers),
        ),
    ]


def add_routes(app: web.Application) -> None:
    api.register(app, operations())
