"""Queues and the widget's settings over HTTP: admins write, supervisors read; the widget's settings are also public.

``PUT /api/admin/queues/{name}`` creates or replaces a queue; the body names the ``version`` it was read at (0 for a
new queue): a stale one is refused with 409 ``stale_version`` and nothing changes. ``DELETE`` is refused (409
``queue_in_use``) while a flow or another queue's overflow names it. Every write goes to the audit log.
``GET /api/admin/music`` lists the audio files of the flows directory a queue may name as its music on hold, and
``GET /api/admin/music/{name}`` serves one (the console plays it before an admin picks it).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import web

from gateway.contact.queues import MUSIC_NAME, QUEUE_NAME, check_name, parse_queue
from gateway.contact.widget_settings import WidgetSettings, parse_widget
from gateway.errors import BadRequest, Conflict, NotFound
from gateway.flows.live import Entry
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import Role
from gateway.wire import api
from gateway.wire.api import AGENT, Answer, Body, Operation, path_param, problems, ref
from gateway.wire.routes import agent_with_role, read_json
from gateway.wire.services import SERVICES, Services
from ivr import trust


def _name(request: web.Request) -> str:
    try:
        return check_name(request.match_info["name"])
    except BadRequest:
        raise BadRequest(
            "a queue name is 1-40 letters, digits, _ or -", field="name", code=ErrorCode.BAD_FIELD
        ) from None


async def list_queues(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read the queues")
    queues = await request.app[SERVICES].queues.all()
    return web.json_response({"queues": [q.to_json() for q in queues]})


async def put_queue(request: web.Request) -> web.Response:
    admin = await agent_with_role(request, Role.ADMIN, doing="change the queues")
    s = request.app[SERVICES]
    queue = parse_queue(_name(request), await read_json(request))
    # a priority or skills that a live flow's branch on browser context would hand out without asking (the publish
    # check's rule, from the queue's side: a security tester's finding)
    skills = tuple(skill for skill, _ in queue.required_skills)
    untrusted = await s.flow_versions.queue_trust_problems(queue.name, queue.priority, skills)
    if untrusted:
        raise BadRequest(
            f"queue '{queue.name}' with {trust.cost_words(queue.priority, skills)} would let the customer's browser "
            "choose them: "
            f"{untrusted[0].message} (line {untrusted[0].line})",
            field="priority",
            code=ErrorCode.BAD_FIELD,
        )
    before, after = await s.queues.put(queue)
    await s.audit.record(
        admin.id,
        "queue.add" if before is None else "queue.update",
        f"queue:{queue.name}",
        before.to_json() if before is not None else None,
        after.to_json(),
    )
    return web.json_response(after.to_json(), status=201 if before is None else 200)


async def delete_queue(request: web.Request) -> web.Response:
    admin = await agent_with_role(request, Role.ADMIN, doing="change the queues")
    s = request.app[SERVICES]
    name = _name(request)
    if (await s.widget.get()).hours_queue == name:
        raise Conflict(
            f"queue '{name}' gives the widget its opening hours: choose another in the widget settings first",
            field="name",
            code=ErrorCode.QUEUE_IN_USE,
        )
    gone = await s.queues.delete(name)
    await s.audit.record(admin.id, "queue.remove", f"queue:{gone.name}", gone.to_json(), None)
    return web.Response(status=204)


async def list_music(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read the music files")
    files = await asyncio.to_thread(request.app[SERVICES].music.files)
    return web.json_response({"files": [{"name": f.name, "bytes": f.bytes} for f in files]})


BINARY = {"type": "string", "format": "binary"}
MUSIC_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "ogg": "audio/ogg"}


async def get_music(request: web.Request) -> web.StreamResponse:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="listen to the music files")
    name = request.match_info["name"]
    if not MUSIC_NAME.fullmatch(name):
        raise BadRequest(
            "a music file's name is letters, digits, _ . - and .wav, .mp3 or .ogg",
            field="name",
            code=ErrorCode.BAD_FIELD,
        )
    files = await asyncio.to_thread(request.app[SERVICES].music.files)
    music_dir = request.app[SERVICES].music.flows_dir
    if music_dir is None or name not in {f.name for f in files}:
        raise NotFound(f"there is no music file '{name}' in the flows directory", field="name")
    kind = MUSIC_TYPES[name.rsplit(".", 1)[1].lower()]
    return web.FileResponse(music_dir / name, headers={"Content-Type": kind, "Cache-Control": "no-store"})


async def get_widget(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing="read the widget settings")
    return web.json_response((await request.app[SERVICES].widget.get()).to_json())


async def put_widget(request: web.Request) -> web.Response:
    admin = await agent_with_role(request, Role.ADMIN, doing="change the widget settings")
    s = request.app[SERVICES]
    settings = parse_widget(await read_json(request))
    if settings.hours_queue and await s.queues.get(settings.hours_queue) is None:
        raise BadRequest(f"no queue '{settings.hours_queue}'", field="hours_queue", code=ErrorCode.BAD_FIELD)
    before = await s.widget.get()
    await s.widget.put(settings)
    await s.audit.record(admin.id, "widget.update", "widget", before.to_json(), settings.to_json())
    return web.json_response(settings.to_json())


async def line_hours_open(s: Services, settings: WidgetSettings | None = None) -> bool | None:
    """Whether the line is open now (the widget says "closed" instead of "we reply in a few minutes"): by the hours
    of the widget's ``hours_queue``, else of the ``hours`` node nearest the start of the flow that answers chats,
    else of the one that answers calls (its own schedule, or its queue's); None when nothing has hours."""
    now = datetime.now(UTC)
    settings = settings if settings is not None else await s.widget.get()
    if settings.hours_queue:
        queue = await s.queues.get(settings.hours_queue)
        if queue is not None:
            return queue.is_open(now)
    flows = s.flows.snapshot()
    for name in (s.flows.answering(Entry.CHATS), s.flows.answering(Entry.CALLS)):
        flow = flows.get(name) if name else None
        node = flow.hours_node() if flow is not None else None
        if node is None:
            continue
        if node.schedule is not None:
            return node.schedule.check(now)[0]
        queue = await s.queues.get(node.queue)
        return queue.is_open(now) if queue is not None else None
    return None


async def public_widget(request: web.Request) -> web.Response:
    """What every widget shows (no secret in it): for previews and for a widget that wants it before its socket."""
    s = request.app[SERVICES]
    settings = await s.widget.get()
    body = {**settings.to_json(), "hours_open": await line_hours_open(s, settings)}
    return web.json_response(body, headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"})


def operations() -> list[Operation]:
    name = path_param("name", "the queue's name", QUEUE_NAME.pattern)
    read = problems(401, 403, s403="a token of an agent who is neither admin nor supervisor")
    admin_only = "a token of an agent who is no admin"
    return [
        Operation(
            "GET",
            "/api/admin/queues",
            list_queues,
            "Every queue and its settings (admins; supervisors read-only)",
            tag="admin",
            auth=(AGENT,),
            answers=(Answer(200, "the queues, by name", ref("QueueList")),),
            problems=read,
        ),
        Operation(
            "PUT",
            "/api/admin/queues/{name}",
            put_queue,
            "Create or replace a queue (admins); `version` is the one read, 0 for a new queue",
            tag="admin",
            auth=(AGENT,),
            params=(name,),
            body=Body("the queue", ref("QueueInput")),
            answers=(Answer(200, "replaced", ref("Queue")), Answer(201, "created", ref("Queue"))),
            problems=problems(
                400, 401, 403, 409, s403=admin_only, s409="`stale_version`: changed meanwhile (nothing was written)"
            ),
        ),
        Operation(
            "DELETE",
            "/api/admin/queues/{name}",
            delete_queue,
            "Delete a queue no flow and no other queue names (admins)",
            tag="admin",
            auth=(AGENT,),
            params=(name,),
            answers=(Answer(204, "deleted"),),
            problems=problems(400, 401, 403, 404, 409, s403=admin_only, s409="`queue_in_use`: named by a flow"),
        ),
        Operation(
            "GET",
            "/api/admin/music",
            list_music,
            "The audio files a queue may name as its music on hold: .wav, .mp3 and .ogg files of the flows directory",
            tag="admin",
            auth=(AGENT,),
            answers=(Answer(200, "the files, by name", ref("MusicFiles")),),
            problems=read,
        ),
        Operation(
            "GET",
            "/api/admin/music/{name}",
            get_music,
            "One music file, to listen to before choosing it (admins; supervisors read-only)",
            tag="admin",
            auth=(AGENT,),
            params=(path_param("name", "the file's name", MUSIC_NAME.pattern),),
            answers=(
                Answer(
                    200,
                    "the file, as its name's extension says",
                    BINARY,
                    "audio/wav",
                    alternatives={"audio/mpeg": BINARY, "audio/ogg": BINARY},
                ),
            ),
            problems=problems(400, 401, 403, 404, s403="a token of an agent who is neither admin nor supervisor"),
        ),
        Operation(
            "GET",
            "/api/admin/widget",
            get_widget,
            "The widget's settings (admins; supervisors read-only)",
            tag="admin",
            auth=(AGENT,),
            answers=(Answer(200, "the settings", ref("WidgetSettings")),),
            problems=read,
        ),
        Operation(
            "PUT",
            "/api/admin/widget",
            put_widget,
            "Set the widget's settings (admins): every widget shows them from its next start",
            tag="admin",
            auth=(AGENT,),
            body=Body("the settings; missing fields take their defaults", ref("WidgetSettingsInput")),
            answers=(Answer(200, "stored", ref("WidgetSettings")),),
            problems=problems(400, 401, 403, s403=admin_only),
        ),
        Operation(
            "GET",
            "/api/widget/settings",
            public_widget,
            "What the widget shows: title, colours, greeting, launcher text, language, open now by the hours queue",
            tag="widget",
            answers=(Answer(200, "the settings (CORS: any origin)", ref("PublicWidgetSettings")),),
        ),
    ]


def add_routes(app: web.Application) -> None:
    api.register(app, operations())
