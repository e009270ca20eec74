"""Attachments over HTTP: upload (customer or agent), download and thumbnails (the conversation's parties only).

``POST /api/attachments?name=NAME&client_id=ID[&conversation_id=CID]``: the file is the raw request body (its
Content-Type is ignored: the type is read from the content). A customer's token uploads into the customer's
conversation (the open one or a new one, as a message does), after a token of their upload bucket
(``--limit-attachments-per-hour``, taken before the body is read); an agent's token into ``conversation_id``,
which must be assigned to them. The answer: ``{conversation_id, event_id, duplicate, attachment}``.

``GET /api/attachments/CID/ID`` and ``.../ID/thumbnail``: for the conversation's customer and for agents. A
token of anyone else, or an id that does not exist, is the same 404 (nothing tells whether the file exists).
The answer carries the sniffed type, ``Content-Disposition`` (``inline`` for images, ``attachment`` for a PDF),
``X-Content-Type-Options: nosniff``, a CSP that runs nothing, and ``Cache-Control: private, no-store``.

Tokens come in ``Authorization: Bearer`` only (never in a URL, where logs and history keep them); the browser
fetches with the header and shows a ``blob:`` URL. The widget runs on other sites, so these routes answer CORS
(any origin: they take no cookies, only the bearer token).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from gateway.client_ip import client_ip, limit_key
from gateway.contact.agents import Agent
from gateway.contact.attachments import Download, too_large
from gateway.contact.conversations import CONVERSATION_ID
from gateway.errors import BadRequest, NotFound, Unauthorized
from gateway.protocol.codes import ErrorCode
from gateway.protocol.limits import MAX_CLIENT_ID_CHARS
from gateway.wire import api, tokens
from gateway.wire.api import AGENT, CUSTOMER, Answer, Body, Operation, Param, path_param, problems, ref
from gateway.wire.desk_routes import _query
from gateway.wire.services import SERVICES, Services
from gateway.wire.sessions import authenticate
from gateway.wire.site_tokens import is_verified_id

log = logging.getLogger(__name__)

PREFIX = "/api/attachments"
#: What a downloaded file may do when opened on its own: nothing (no script, no plugin, no form, no frame).
DOWNLOAD_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Disposition, Retry-After",
}
PREFLIGHT = {
    **CORS,
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}


@dataclass(frozen=True, slots=True)
class Party:
    """Who sent the request: a customer (their id) or an agent."""

    customer_id: str = ""
    agent: Agent | None = None


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        raise Unauthorized("a customer or agent token is required (Authorization: Bearer)", field="token")
    return header[7:].strip()


async def _party(request: web.Request) -> Party:
    s = request.app[SERVICES]
    token, now = _bearer(request), time.time()
    try:
        claims = s.signer.verify(token, tokens.CUSTOMER, now=now)
    except Unauthorized as customer_error:
        if "not a customer token" not in customer_error.message:
            raise
    else:
        await _not_erased(s, claims.sub)
        return Party(customer_id=claims.sub)
    agent, _ = await authenticate(token, signer=s.signer, sessions=s.sessions, directory=s.directory, now=now)
    return Party(agent=agent)


async def _not_erased(s: Services, customer_id: str) -> None:
    """A browser's customer id an admin erased is nobody now: its tokens are refused (a site's user, whom the site
    vouches for, stays that customer, afresh)."""
    if not is_verified_id(customer_id) and await s.erasure.erased(customer_id):
        raise Unauthorized("this customer token was revoked: connect again for a new one", field="token")


async def _body(request: web.Request, max_bytes: int) -> bytes:
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large(max_bytes)
    raw = bytearray()
    while len(raw) <= max_bytes:
        chunk = await request.content.read(max_bytes + 1 - len(raw))
        if not chunk:
            break
        raw += chunk
    if len(raw) > max_bytes:
        raise too_large(max_bytes)
    return bytes(raw)


def _required(params: dict[str, str], name: str, max_len: int) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise BadRequest(f"'{name}' is required", field=name, code=ErrorCode.MISSING_FIELD)
    if len(value) > max_len:
        raise BadRequest(f"'{name}' is over {max_len} characters", field=name, code=ErrorCode.BAD_FIELD)
    return value


async def upload(request: web.Request) -> web.Response:
    s = request.app[SERVICES]
    party = await _party(request)
    params = _query(request, ("name", "client_id", "conversation_id"))
    name = _required(params, "name", 1000)  # only shown, cut down to a safe name (gateway/contact/sniff.py)
    client_id = _required(params, "client_id", MAX_CLIENT_ID_CHARS)
    attachments = s.attachments
    if attachments.per_conversation == 0:
        raise BadRequest("attachments are turned off on this gateway", field="file", code=ErrorCode.BAD_FIELD)
    if party.agent is not None:
        cid = _required(params, "conversation_id", 64)
        await s.conversations.require_agent(party.agent.id, cid)  # 403 before the body is read
        checked = await attachments.check(name, await _body(request, attachments.max_bytes))
        stored = await attachments.from_agent(party.agent.id, party.agent.name, cid, client_id, checked)
    else:
        address = limit_key(client_ip(request, s.limits.config.trusted_proxies))
        seen, _ = await s.store.customer_message_lookup(party.customer_id, client_id)
        if seen is not None:  # a resent upload: the first one's event, nothing taken or read
            return _stored(seen[0], seen[1], duplicate=True)
        await s.limits.take_attachment(party.customer_id, address)  # 429 before the body is read
        checked = await attachments.check(name, await _body(request, attachments.max_bytes))
        await _not_erased(s, party.customer_id)  # again: a slow upload may outlast an erasure begun meanwhile
        stored = await attachments.from_customer(
            party.customer_id, client_id, checked, {}, s.limits.buckets(party.customer_id, address)
        )
        if stored.for_bot:
            await s.bots.greet(stored.conversation_id)
    return _stored(stored.conversation_id, stored.event_id, duplicate=stored.duplicate)


def _stored(cid: str, event_id: str, *, duplicate: bool) -> web.Response:
    return web.json_response({"conversation_id": cid, "event_id": event_id, "duplicate": duplicate})


def _download(thumbnail: bool):  # type: ignore[no-untyped-def]
    async def handler(request: web.Request) -> web.Response:
        s = request.app[SERVICES]
        party = await _party(request)
        cid, aid = request.match_info["cid"], request.match_info["aid"]
        missing = NotFound("no such attachment", field="attachment_id")
        if party.agent is None:  # a customer: their own conversations only, and the same 404 as a missing file
            conv = await s.store.conversation(cid) if len(cid) <= 64 else None
            if conv is None or conv.get("customer_id") != party.customer_id:
                raise missing
        found = await s.attachments.read(cid, aid, thumbnail=thumbnail)
        who = {"agent_id": party.agent.id} if party.agent else {"customer_id": party.customer_id}
        log.info(
            "attachment %s read%s", aid, " (thumbnail)" if thumbnail else "", extra={"conversation_id": cid, **who}
        )
        return web.Response(body=found.data, headers=_download_headers(found))

    return handler


def _download_headers(found: Download) -> dict[str, str]:
    disposition = "inline" if found.media_type.startswith("image/") else "attachment"
    ascii_name = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in found.name)
    return {
        "Content-Type": found.media_type,
        "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(found.name)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": DOWNLOAD_CSP,
        "Cache-Control": "private, no-store",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }


async def preflight(request: web.Request) -> web.Response:
    return web.Response(status=204, headers=PREFLIGHT)


async def _cors(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer of these routes (errors too) may be read by the widget on another site."""
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        for name, value in CORS.items():
            response.headers.setdefault(name, value)


def operations() -> list[Operation]:
    """The attachment routes, described (gateway/wire/api.py)."""
    who = (CUSTOMER, AGENT)
    ids = (
        path_param("cid", "the conversation id", CONVERSATION_ID.pattern),
        path_param("aid", "the attachment id (its event's)"),
    )
    cors = {"Access-Control-Allow-Origin": "*"}
    file = Answer(
        200,
        "the file, its sniffed type (Content-Disposition inline for images, attachment for a PDF)",
        {"type": "string", "format": "binary"},
        "application/octet-stream",
        headers={"Content-Disposition": "inline or attachment, with the cleaned name", **cors},
    )
    preflight_answer = (Answer(204, "CORS preflight: any origin, GET and POST, Authorization", headers=cors),)
    read_problems = problems(401, 404, s404="no such file, or not this caller's conversation (the same answer)")
    out = [
        Operation(
            "POST",
            PREFIX,
            upload,
            "Upload a file into a conversation (the raw body is the file; its type is read from the content)",
            tag="attachments",
            auth=who,
            description="A customer's token uploads into the customer's conversation (opening one as a message does), "
            "after a token of their upload bucket; an agent's into `conversation_id`, assigned to them.",
            params=(
                Param("name", "query", "the file's name (shown only, cleaned)", {"type": "string"}, required=True),
                Param(
                    "client_id",
                    "query",
                    "exactly-once: a resent upload answers the first one's ids with duplicate true",
                    {"type": "string", "maxLength": MAX_CLIENT_ID_CHARS},
                    required=True,
                ),
                Param(
                    "conversation_id",
                    "query",
                    "agents: the conversation (required for them)",
                    {"type": "string", "pattern": CONVERSATION_ID.pattern},
                ),
            ),
            body=Body("the file: PNG, JPEG, WebP, GIF or PDF", {"type": "string"}, "application/octet-stream"),
            answers=(Answer(200, "stored (or a duplicate of a stored one)", ref("AttachmentStored"), headers=cors),),
            problems=problems(
                400,
                401,
                403,
                404,
                409,
                429,
                s404="an agent's `conversation_id` names no conversation",
                s409="the conversation's attachments are full, or it is closed",
            ),
        ),
    ]
    downloads = (
        ("", False, "Download a file"),
        (
            "/thumbnail",
            True,
            "An image's thumbnail (JPEG, or PNG with transparency; at most 320 px a side); a PDF has none (404)",
        ),
    )
    for suffix, thumbnail, summary in downloads:
        out.append(
            Operation(
                "GET",
                PREFIX + "/{cid}/{aid}" + suffix,
                _download(thumbnail=thumbnail),
                summary,
                tag="attachments",
                auth=who,
                params=ids,
                answers=(file,),
                problems=read_problems,
            )
        )
    for path, params in ((PREFIX, ()), (PREFIX + "/{cid}/{aid}", ids), (PREFIX + "/{cid}/{aid}/thumbnail", ids)):
        out.append(
            Operation(
                "OPTIONS",
                path,
                preflight,
                "CORS preflight (the widget runs on other sites)",
                tag="attachments",
                params=params,
                answers=preflight_answer,
                problem_json=False,
            )
        )
    return out


def add_routes(app: web.Application) -> None:
    app.on_response_prepare.append(_cors)
    api.register(app, operations())
