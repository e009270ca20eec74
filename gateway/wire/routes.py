"""HTTP endpoints: pages and static files, agent login, health and readiness.

Errors leave as problem JSON ``{"code", "message", "field"}`` from one
middleware; handlers raise :class:`~gateway.errors.GatewayError`.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import math
import re
import time
from typing import Any

from aiohttp import web

from gateway.calls.admission import Load
from gateway.client_ip import client_ip
from gateway.contact.agents import Agent
from gateway.contact.conversations import CONVERSATION_ID
from gateway.contact.history import may_play_recording
from gateway.contact.passwords import hash_password, verify_password
from gateway.errors import (
    BadRequest,
    Forbidden,
    GatewayError,
    InternalError,
    NotFound,
    StoreUnavailable,
    TooManyRequests,
    Unauthorized,
)
from gateway.json_input import check_text, loads_object
from gateway.protocol.codes import ErrorCode
from gateway.protocol.limits import REFRESH_GRACE_SECONDS
from gateway.protocol.states import Role
from gateway.store.store import StoreError
from gateway.wire import api, security_headers
from gateway.wire.api import AGENT, AGENT_QUERY, Answer, Body, Operation, Param, path_param, problems, ref
from gateway.wire.services import SERVICES
from gateway.wire.sessions import LoginSession, access_token, authenticate
from webclient import STATIC_DIR
from webclient.joiner import Joined, joined_widget

log = logging.getLogger(__name__)

_DUMMY_HASH = hash_password("timing-equaliser", n=2**14)


@web.middleware
async def problem_json(request: web.Request, handler: Any) -> web.StreamResponse:
    """The one place HTTP errors take their shape: a GatewayError is its problem JSON; a Redis failure is 503
    ``store_unavailable`` with ``Retry-After`` (a warning, no traceback); any other exception (a bug) is logged once
    with its traceback and a request id, and answered 500 ``internal`` with that id.
    aiohttp's own HTTP exceptions (404, 405, ...) pass, but /static answers every file it does not have (a name
    outside it, or longer than a file name may be) with its one empty 404; cancellation is never caught."""
    try:
        return await handler(request)
    except GatewayError as exc:
        retry = exc.retry_after if isinstance(exc, TooManyRequests) else None
        return web.json_response(
            exc.to_dict(), status=exc.http_status, headers={"Retry-After": str(retry)} if retry else None
        )
    except web.HTTPException as exc:
        if exc.status == 404 and request.path.startswith("/static/"):
            return no_such_static_file()  # ("../" and other paths outside it too: one shape)
        raise
    except StoreError as exc:  # Redis down or restarting: not a bug, no traceback; the client tries again
        log.warning("store unavailable in %s %s: %s: %s", request.method, request.path, type(exc).__name__, exc)
        unavailable = StoreUnavailable()
        return web.json_response(
            unavailable.to_dict(), status=unavailable.http_status, headers={"Retry-After": str(unavailable.retry_after)}
        )
    except Exception as exc:  # noqa: BLE001 - the edge: logged with its traceback, answered as 'internal'
        if isinstance(exc, ConnectionResetError) and (request.transport is None or request.transport.is_closing()):
            log.info("client went away during %s %s", request.method, request.path)
            raise web.HTTPBadRequest() from None  # nobody reads it; aiohttp closes quietly
        if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG and request.path.startswith("/static/"):
            return no_such_static_file()  # a file name from the URL longer than the file system's: no such file
        internal = InternalError.logged(exc, log, f"{request.method} {request.path}")
        return web.json_response(internal.to_dict(), status=internal.http_status)


def no_such_static_file() -> web.Response:
    """What /static answers for a file it does not have: 404 with an empty body (as aiohttp's file response does)."""
    return web.Response(status=404, content_type="application/octet-stream")


async def read_json(request: web.Request, max_bytes: int = 16 * 1024) -> dict[str, Any]:
    """The request body as a JSON object: size and nesting limits before parsing, strict JSON
    (gateway/json_input.py); ``frame_too_large`` / ``bad_json`` otherwise."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise BadRequest(f"body is over {max_bytes} bytes", code=ErrorCode.FRAME_TOO_LARGE)
    raw = bytearray()
    while len(raw) <= max_bytes:  # read() returns what has arrived: loop until the end or past the limit
        chunk = await request.content.read(max_bytes + 1 - len(raw))
        if not chunk:
            break
        raw += chunk
    if len(raw) > max_bytes:
        raise BadRequest(f"body is over {max_bytes} bytes", code=ErrorCode.FRAME_TOO_LARGE)
    return loads_object(bytes(raw), what="body", max_bytes=max_bytes)


def _field(body: dict[str, Any], name: str) -> str:
    """A required string of the body: real text without control characters (gateway/json_input.py)."""
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"'{name}' is required", field=name, code=ErrorCode.MISSING_FIELD)
    if len(value) > 256:
        raise BadRequest(f"'{name}' is too long", field=name, code=ErrorCode.BAD_FIELD)
    return check_text(value, name, multiline=False)


async def login(request: web.Request) -> web.Response:
    """Password login: counted against the limits *before* scrypt runs (gateway/wire/login_limits.py), then a
    login session (gateway/wire/sessions.py) and a short-lived access token of it."""
    s = request.app[SERVICES]
    body = await read_json(request)
    agent_id, password = _field(body, "agent_id"), _field(body, "password")
    address = s.login_limits.address(request)
    await s.login_limits.attempt(agent_id, address)  # 429 with retry_after, before any hashing
    agent = await s.directory.fetch(agent_id)  # the store's, not this node's copy: added a moment ago counts
    stored = agent.password_hash if agent is not None else _DUMMY_HASH  # unknown ids cost the same time
    ok = await asyncio.to_thread(verify_password, password, stored)
    if agent is None or not ok:
        log.info("failed login from %s", address, extra={"agent_id": agent_id})
        raise Unauthorized("unknown agent or wrong password", field="password")
    await s.login_limits.succeeded(agent.id, address)
    if agent.disabled:
        raise Forbidden("this agent is disabled; ask an admin", field="agent_id", code=ErrorCode.AGENT_DISABLED)
    if agent.must_change_password:
        why = "this password was set for one use: choose your own (POST /api/agent/password), then log in"
        if body.get("ask_password_change") is True:  # the desk's: an answer it expects, not an error (no 403)
            return web.json_response({"password_change_required": True, "message": why})
        raise Forbidden(why, field="password", code=ErrorCode.PASSWORD_CHANGE_REQUIRED)
    now = time.time()
    session = await s.sessions.create(agent.id, now=now, address=address)
    again = await s.directory.fetch(agent.id)  # removed, disabled or given a password while scrypt ran: undo
    if again is None or again.disabled or again.password_hash != agent.password_hash:
        await s.sessions.revoke(session.id, reason="revoked")
        raise Unauthorized("unknown agent or wrong password", field="password")
    log.info("agent logged in from %s", address, extra={"agent_id": agent.id})
    return web.json_response(
        {
            **access_token(s.signer, session, now=now, minutes=s.settings.agent_access_minutes),
            "agent": {"id": agent.id, "name": agent.name, "roles": list(agent.roles)},
        }
    )


async def refresh(request: web.Request) -> web.Response:
    """A fresh access token for a genuine one, while its login session lives. The desk calls it before expiry;
    a token up to ``REFRESH_GRACE_SECONDS`` past it still refreshes (a laptop that slept, a throttled tab). That
    gives a stolen token nothing more: an unexpired one refreshes anyway; only ending the session takes it back."""
    s = request.app[SERVICES]
    now = time.time()
    _, session = await _authenticated(request, now=now, grace=REFRESH_GRACE_SECONDS)
    return web.json_response(access_token(s.signer, session, now=now, minutes=s.settings.agent_access_minutes))


async def logout(request: web.Request) -> web.Response:
    """Revoke the token's login session on every node (its desk sockets close at once). A token past its
    expiry still logs out: it is genuine, and ending its session early only helps."""
    s = request.app[SERVICES]
    agent, session = await _authenticated(request, now=time.time(), grace=math.inf)
    await s.sessions.revoke(session.id, reason="logout")
    requeued: list[str] = []
    # no desk of theirs open elsewhere (another browser or tab): nobody would answer their chats. (Not "their last
    # login session": each tab is one, and a tab closed without logging out leaves a live one behind for hours.)
    if not await s.presence.desks_elsewhere(agent.id, session.id):
        requeued = await s.handover.release_agent(agent.id, "agent_logged_out")
    return web.json_response({"status": "logged_out", "requeued": len(requeued)})


RECORDING_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,80}\.(ogg|wav)$")


def _bearer(request: web.Request, *, query: bool = False) -> str:
    """The agent's token: ``Authorization: Bearer``, or ``?token=`` on the routes that say so (``query``: a
    recording an ``<audio>`` element plays). Every agent route took it in the URL, where a proxy's access log keeps
    it (a security tester's finding)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    elif query:
        token = request.query.get("token", "")
    elif "token" in request.query:
        raise Unauthorized("send the token as Authorization: Bearer, not in the URL", field="token")
    else:
        token = ""
    if not token:
        raise Unauthorized("an agent token is required", field="token")
    return token


async def _authenticated(
    request: web.Request, *, now: float, grace: float = 0.0, query: bool = False
) -> tuple[Agent, LoginSession]:
    s = request.app[SERVICES]
    return await authenticate(
        _bearer(request, query=query),
        signer=s.signer,
        sessions=s.sessions,
        directory=s.directory,
        now=now,
        grace=grace,
    )


async def _agent_of(request: web.Request, *, query: bool = False) -> Agent:
    """The agent whose access token comes as ``Authorization: Bearer TOKEN`` (or ``?token=`` where ``query``: an
    ``<audio>`` element), if its login session still lives."""
    agent, _ = await _authenticated(request, now=time.time(), query=query)
    return agent


agent_of = _agent_of  # the other route modules' way to the agent of a request (gateway/wire/desk_routes.py)


def _plural(role: Role) -> str:
    return f"{role.value}s"


async def agent_with_role(request: web.Request, *roles: Role, doing: str = "do this") -> Agent:
    """The agent of the request's token if they hold one of ``roles`` (read from the directory now: a role taken
    away counts at once). 401 without a live token; 403 naming the roles it takes, e.g. "only admins and
    supervisors may read flows (your roles: agent)". Every route's role check is this one."""
    assert roles, "name the roles that may"
    agent = await _agent_of(request)
    if any(agent.has(role) for role in roles):
        return agent
    names = " and ".join(_plural(r) for r in roles)
    raise Forbidden(f"only {names} may {doing} (your roles: {', '.join(agent.roles) or 'none'})")


async def live_calls(request: web.Request) -> web.Response:
    """Supervisors: the calls connected to agents on this node (to listen in)."""
    await agent_with_role(request, Role.SUPERVISOR, doing="list the live calls")
    calls = request.app[SERVICES].agent_calls.monitors.listing()
    return web.json_response({"calls": calls})


async def open_callbacks(request: web.Request) -> web.Response:
    """Supervisors: every callback not closed yet (all nodes), soonest due first."""
    await agent_with_role(request, Role.SUPERVISOR, doing="list the callbacks")
    return web.json_response({"callbacks": await request.app[SERVICES].callbacks.listing()})


async def recording(request: web.Request) -> web.FileResponse:
    """A recorded call, for the agent who handles the conversation or answered the call, and supervisors."""
    s = request.app[SERVICES]
    agent = await _agent_of(request, query=True)  # an <audio> element's src
    cid, name = request.match_info["cid"], request.match_info["name"]
    if not RECORDING_NAME_RE.fullmatch(name) or not RECORDING_NAME_RE.fullmatch(cid + ".ogg"):
        raise NotFound("no such recording", field="name")
    conv = await s.store.conversation(cid)
    if conv is None:
        raise NotFound("no such conversation", field="conversation_id")
    supervisor = "supervisor" in agent.roles
    if not may_play_recording(conv, await s.store.events(cid), agent.id, supervisor=supervisor):
        raise Forbidden("only the conversation's agents and supervisors may play its recordings")
    path = s.settings.data_dir / "recordings" / cid / name
    if not path.is_file():
        raise NotFound("no such recording", field="name")
    log.info("recording played", extra={"agent_id": agent.id, "conversation_id": cid})
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "audio/ogg" if name.endswith(".ogg") else "audio/wav",
            "Cache-Control": "private, no-store",
        },
    )


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready when Redis answers and the node takes calls: 503 ``unavailable`` (Redis down), ``draining`` (stopping),
    ``taken_over`` (it stalled, another node ended its calls: it stops to be started again) or ``full`` (its event loop runs late, its frames go out late, or its loop uses its core with calls on it:
    gateway/calls/admission.py). Strangers get the status only; loopback
    and supervisors also the details."""
    s = request.app[SERVICES]
    details = await _may_see_node_details(request)
    if s.node_watch is not None and s.node_watch.taken_over.is_set():  # it stops, to be started again
        return web.json_response(
            {"status": "taken_over", **({"node": s.settings.node_id} if details else {})}, status=503
        )
    load = s.calls.admission.state
    if load != Load.READY:
        body: dict[str, object] = {"status": str(load)}
        if details:
            admission = s.calls.admission
            body |= {
                "node": s.settings.node_id,
                "loop_lag_ms": round(1000 * admission.lag_s),
                "late_frames_percent": round(100 * admission.late_share, 1),
                "loop_cpu_percent": round(100 * admission.loop_cpu_share),
            }
        return web.json_response(body, status=503)
    try:
        async with asyncio.timeout(2):
            await s.store.ping()
    except (StoreError, OSError, TimeoutError) as exc:
        body = {"status": "unavailable"}
        if details:
            body["redis"] = str(exc) or type(exc).__name__
        return web.json_response(body, status=503)
    if not details:
        return web.json_response({"status": "ready"})
    return web.json_response({"status": "ready", "redis": "ok", "node": s.settings.node_id})


LOOPBACK = ("127.0.0.1", "::1")
#: Headers a reverse proxy adds: a loopback peer sending one forwards someone else (a proxy that sets only
#: X-Real-IP, or Via, opened /metrics and the node's details to the internet: an operator's finding)
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host", "X-Forwarded-Proto", "Via")


def _from_loopback(request: web.Request) -> bool:
    """A client on this machine: loopback, and not a request a local reverse proxy forwarded for someone else."""
    s = request.app[SERVICES]
    address = client_ip(request, s.limits.config.trusted_proxies)
    if address == request.remote and any(name in request.headers for name in PROXY_HEADERS):
        return False  # an untrusted local proxy forwarding a stranger: the peer address proves nothing
    return address in LOOPBACK or address.startswith("::ffff:127.")


from_loopback = _from_loopback  # the other route modules' way to the same rule (gateway/wire/metrics_route.py)


async def _may_see_node_details(request: web.Request) -> bool:
    """Loopback, or a supervisor's token (a missing or bad token: a stranger, no error for health checks)."""
    if _from_loopback(request):
        return True
    if "Authorization" not in request.headers and "token" not in request.query:
        return False
    try:
        async with asyncio.timeout(2):
            return "supervisor" in (await _agent_of(request)).roles
    except Unauthorized:
        return False
    except (StoreError, OSError, TimeoutError):  # sessions live in Redis: down, so cannot tell
        return False


async def stats(request: web.Request) -> web.Response:
    """Operational counters for this node: loopback (the operator, the benchmarks) or a supervisor."""
    if not _from_loopback(request) and "supervisor" not in (await _agent_of(request)).roles:
        raise Forbidden("node statistics are only for supervisors and on loopback")
    s = request.app[SERVICES]
    return web.json_response(
        {"node": s.settings.node_id, "calls": s.calls.frames.stats(), "chat_bots": len(s.bots.bots)}
    )


def _page(name: str, content_type: str = "text/html") -> Any:
    path = STATIC_DIR / name

    async def handler(request: web.Request) -> web.FileResponse:
        headers = {"Cache-Control": "no-cache"}
        return web.FileResponse(path, headers={**headers, "Content-Type": f"{content_type}; charset=utf-8"})

    return handler


def _widget(joined: Joined) -> Any:
    """The widget's one script for any site (its modules joined at start-up: webclient/joiner.py)."""
    headers = {
        "Cache-Control": "no-cache",
        "Access-Control-Allow-Origin": "*",
        "ETag": joined.etag,
        "Content-Type": "application/javascript; charset=utf-8",
    }

    async def handler(request: web.Request) -> web.Response:
        if joined.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers={k: v for k, v in headers.items() if k != "Content-Type"})
        return web.Response(body=joined.body, headers=headers)

    return handler


def operations() -> list[Operation]:
    """Pages, static files, health, login and the supervisors' lists, described (gateway/wire/api.py)."""
    page = (Answer(200, "the page", {"type": "string"}, "text/html"),)
    supervisor_only = problems(401, 403, s403="a token of an agent who is no supervisor")
    token_param = Param("token", "query", "the agent's access token, instead of the Authorization header")
    return [
        Operation("GET", "/", _page("index.html"), "The demo site with the widget embedded", tag="pages", answers=page),
        Operation("GET", "/agent", _page("agent.html"), "The agent desk", tag="pages", answers=page),
        Operation(
            "GET",
            "/admin",
            _page("admin/admin.html"),
            "The admin console: agents, queues, widget settings, event webhooks, audit log",
            tag="pages",
            description="The page is public; its data comes from /api/admin/... and /api/webhooks (admins edit, "
            "supervisors read).",
            answers=page,
        ),
        Operation(
            "GET",
            "/supervisor/reports",
            _page("supervisor/reports.html"),
            "The reports page (its data, GET /api/reports, is for supervisors and admins)",
            tag="pages",
            answers=page,
        ),
        Operation(
            "GET",
            "/admin/flows",
            _page("admin/flows.html"),
            "The flow editor: flows, versions, graph, test console, replay (its data asks for the admin role)",
            tag="pages",
            answers=page,
        ),
        Operation(
            "GET",
            "/supervisor",
            _page("supervisor/wallboard.html"),
            "The supervisors' wallboard (its data comes over /ws/agent, to supervisors and admins only)",
            tag="pages",
            answers=page,
        ),
        Operation(
            "GET",
            "/widget.js",
            _widget(joined_widget()),
            'The customer widget: one script tag on any site (data-gateway="https://HOST")',
            tag="pages",
            answers=(
                Answer(200, "the script (CORS: any origin)", {"type": "string"}, "application/javascript"),
                Answer(304, "unchanged since the If-None-Match ETag"),
            ),
        ),
        Operation(
            "GET",
            "/static/{path}",
            None,  # add_static below
            "The rest of webclient/static/ (desk and shared modules, styles); nothing outside it",
            tag="pages",
            params=(path_param("path", "a file under webclient/static/"),),
            answers=(
                Answer(200, "the file", {"type": "string"}, "application/octet-stream"),
                Answer(
                    404,
                    "no such file under webclient/static/ (an empty body)",
                    {"type": "string", "maxLength": 0},
                    "application/octet-stream",
                ),
            ),
            problem_json=False,
        ),
        Operation(
            "POST",
            "/api/agent/login",
            login,
            "Log in with a password: a login session and an access token of it",
            tag="agents",
            description="Counted against the login limits before the password is checked (429 while backing off).",
            body=Body("the agent's credentials", ref("LoginRequest")),
            answers=(
                Answer(
                    200,
                    "logged in; or, asked with `ask_password_change`, a one-time password to change first",
                    {"oneOf": [ref("Login"), ref("PasswordChangeRequired")]},
                ),
            ),
            problems=problems(
                400,
                401,
                403,
                429,
                s401="unknown agent or wrong password",
                s403="right password, but `password_change_required` (a one-time password an admin set: change it "
                "with POST /api/agent/password, then log in; 200 instead with `ask_password_change`) or `agent_disabled`",
            ),
        ),
        Operation(
            "POST",
            "/api/agent/refresh",
            refresh,
            "A fresh access token of the same session (a token up to 300 s past its expiry still refreshes)",
            tag="agents",
            auth=(AGENT,),
            answers=(Answer(200, "the new token", ref("AccessToken")),),
            problems=problems(401, s401="token_expired (past the grace), session_revoked, unauthorized"),
        ),
        Operation(
            "POST",
            "/api/agent/logout",
            logout,
            "End the token's login session on every node (its desk sockets close at once)",
            tag="agents",
            auth=(AGENT,),
            description="When no other desk of the agent is open (another tab or browser), the chats still assigned "
            "to them go back to the queue (`requeued`), so no customer writes to nobody.",
            answers=(Answer(200, "logged out", ref("LoggedOut")),),
            problems=problems(401),
        ),
        Operation(
            "GET",
            "/healthz",
            healthz,
            "Liveness: 200 while the process is up",
            tag="health",
            answers=(Answer(200, "up", ref("Status")),),
            problem_json=False,
        ),
        Operation(
            "GET",
            "/readyz",
            readyz,
            "Readiness: Redis answers and the node takes new calls and chats",
            tag="health",
            auth=(AGENT,),
            auth_optional=True,
            description="Strangers get the status only; loopback and a supervisor's token also `redis` and `node` "
            "(and `loop_lag_ms`, `late_frames_percent`, `loop_cpu_percent` when full or draining). 503 `unavailable`: Redis "
            "does not answer (down); `draining`: the node stops (SIGTERM) and takes nothing new; `full`: its event "
            "loop runs late, its calls' frames go out late or its loop uses its core, new calls are refused.",
            answers=(
                Answer(200, "ready", ref("Ready")),
                Answer(503, "unavailable (Redis does not answer), draining, or full", ref("Ready")),
            ),
            problem_json=False,
        ),
        Operation(
            "GET",
            "/api/stats",
            stats,
            "This node's counters (calls, frames, chat bots)",
            tag="health",
            auth=(AGENT,),
            auth_optional=True,
            description="From this machine (not forwarded by a proxy) without a token; from elsewhere a supervisor's.",
            answers=(Answer(200, "the counters", ref("Stats")),),
            problems=supervisor_only,
        ),
        Operation(
            "GET",
            "/api/recordings/{cid}/{name}",
            recording,
            "A recorded call, for the conversation's agent, an agent who answered the call, and supervisors",
            tag="calls",
            auth=(AGENT, AGENT_QUERY),
            params=(
                path_param("cid", "the conversation id", CONVERSATION_ID.pattern),
                path_param("name", "the file (a recording event's `file`)", RECORDING_NAME_RE.pattern),
                token_param,
            ),
            answers=(Answer(200, "the audio", {"type": "string", "format": "binary"}, "audio/ogg"),),
            problems=problems(401, 403, 404),
        ),
        Operation(
            "GET",
            "/api/calls",
            live_calls,
            "Supervisors: the calls with an agent on this node (to listen in)",
            tag="calls",
            auth=(AGENT,),
            answers=(Answer(200, "the calls", ref("LiveCalls")),),
            problems=supervisor_only,
        ),
        Operation(
            "GET",
            "/api/callbacks",
            open_callbacks,
            "Supervisors: every callback not closed yet (all nodes), soonest due first",
            tag="callbacks",
            auth=(AGENT,),
            answers=(Answer(200, "the callbacks", ref("OpenCallbacks")),),
            problems=supervisor_only,
        ),
    ]


def add_routes(app: web.Application) -> None:
    security_headers.install(app)
    api.register(app, operations())
    # webclient/static holds the browser files only (never the package's Python files); no symlinks followed.
    app.router.add_static("/static/", STATIC_DIR, show_index=False, follow_symlinks=False)
