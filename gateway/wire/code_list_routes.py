"""The center's code lists over HTTP (gateway/contact/code_lists.py): away reasons and dispositions.

``GET /api/away-reasons`` and ``GET /api/dispositions`` (any agent: the desk offers them), ``PUT
/api/admin/away-reasons`` and ``PUT /api/admin/dispositions`` (admins): the whole list and the ``version`` read; a
stale version is refused with 409 ``stale_version`` and nothing is written. Every write is in the audit log
(``away_reasons.update``, ``dispositions.update``), with the list before and after.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.contact.code_lists import CenterCodes
from gateway.protocol.states import Role
from gateway.wire import api
from gateway.wire.api import AGENT, Answer, Body, Operation, problems, ref
from gateway.wire.routes import agent_of, agent_with_role, read_json
from gateway.wire.services import SERVICES, Services

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _handlers(list_of: Callable[[Services], CenterCodes], words: str) -> tuple[Handler, Handler]:
    """GET (any agent) and PUT (admins) of one list; ``words``: "away reasons"."""

    async def read(request: web.Request) -> web.Response:
        await agent_of(request)  # any agent: their desk offers the list
        return web.json_response((await list_of(request.app[SERVICES]).get()).to_json())

    async def write(request: web.Request) -> web.Response:
        admin = await agent_with_role(request, Role.ADMIN, doing=f"change the {words}")
        s = request.app[SERVICES]
        codes = list_of(s)
        before, after = await codes.put(codes.parse(await read_json(request)))
        field = codes.kind.field
        await s.audit.record(admin.id, f"{field}.update", field, before.to_json(), after.to_json())
        return web.json_response(after.to_json())

    return read, write


def operations() -> list[Operation]:
    out = []
    for path, list_of, words, shape, use in (
        ("away-reasons", lambda s: s.away_reasons, "away reasons", "AwayReasons", "the desk's Away offers them"),
        ("dispositions", lambda s: s.dispositions, "dispositions", "Dispositions", "an agent closes with one"),
    ):
        read, write = _handlers(list_of, words)
        field = path.replace("-", "_")
        out += [
            Operation(
                "GET",
                f"/api/{path}",
                read,
                f"The center's {words} (any agent: {use}); version 0 is the defaults",
                tag="agents",
                auth=(AGENT,),
                answers=(Answer(200, f"the {words}, in the order the desk offers them", ref(shape)),),
                problems=problems(401),
            ),
            Operation(
                "PUT",
                f"/api/admin/{path}",
                write,
                f"Replace the {words} (admins); `version` is the one read. Audited (`{field}.update`)",
                tag="admin",
                auth=(AGENT,),
                body=Body(f"the {words}, 1 to 20, and the version read", ref(f"{shape}Input")),
                answers=(Answer(200, "stored", ref(shape)),),
                problems=problems(
                    400,
                    401,
                    403,
                    409,
                    s403="a token of an agent who is no admin",
                    s409="`stale_version`: changed meanwhile (nothing was written)",
                ),
            ),
        ]
    return out


def add_routes(app: web.Application) -> None:
    api.register(app, operations())
