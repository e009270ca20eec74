"""A customer's data on request, for admins (rules: gateway/ops/erasure.py): export it whole, erase it, or find the
customer id a website's user has here. Every export and erasure goes to the audit log."""

from __future__ import annotations

import re

from aiohttp import web

from gateway.errors import BadRequest
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import Role
from gateway.wire import api
from gateway.wire.api import AGENT, Answer, Operation, Param, path_param, problems, ref
from gateway.wire.desk_routes import query_params
from gateway.wire.routes import agent_with_role
from gateway.wire.services import SERVICES
from gateway.wire.site_tokens import MAX_CLAIM_CHARS, site_user_id

CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # u_... (the widget's), v_... (a site's user), older ids too


def _customer_id(request: web.Request) -> str:
    customer_id = request.match_info["customer_id"]
    if not CUSTOMER_ID.fullmatch(customer_id):
        raise BadRequest(
            "a customer id is 1-64 letters, digits, _ or - (as the desk shows it: u_... or v_...)",
            field="customer_id",
            code=ErrorCode.BAD_FIELD,
        )
    return customer_id


async def export_customer(request: web.Request) -> web.Response:
    admin = await agent_with_role(request, Role.ADMIN, doing="export a customer's data")
    s = request.app[SERVICES]
    customer_id = _customer_id(request)
    query_params(request, ())
    document = await s.erasure.export(customer_id)
    counts = {"conversations": len(document["conversations"]), "attachments": len(document["attachments"])}
    await s.audit.record(admin.id, "customer.export", f"customer:{customer_id}", None, counts)
    return web.json_response(
        document,
        headers={
            "Content-Disposition": f'attachment; filename="customer-{customer_id}.json"',
            "Cache-Control": "private, no-store",
        },
    )


async def erase_customer(request: web.Request) -> web.Response:
    admin = await agent_with_role(request, Role.ADMIN, doing="erase a customer's data")
    s = request.app[SERVICES]
    customer_id = _customer_id(request)
    query_params(request, ())
    report = await s.erasure.erase(customer_id)
    await s.audit.record(admin.id, "customer.erase", f"customer:{customer_id}", None, report.to_json())
    return web.json_response(report.to_json())


async def find_site_user(request: web.Request) -> web.Response:
    await agent_with_role(request, Role.ADMIN, doing="look customers up")
    s = request.app[SERVICES]
    params = query_params(request, ("site", "subject"))
    site, subject = params.get("site", ""), params.get("subject", "")
    if not subject or len(subject) > MAX_CLAIM_CHARS:
        raise BadRequest(
            f"'subject' is the site's id of its user (1-{MAX_CLAIM_CHARS} characters)",
            field="subject",
            code=ErrorCode.BAD_FIELD,
        )
    known = s.site_keys.key_ids()
    if not site and len(known) == 1:
        site = known[0]  # as a token without 'kid' is read when there is one key
    if site not in known:
        have = ", ".join(known) if known else "none (--site-keys)"
        raise BadRequest(
            f"no site key '{site[:40]}' on this gateway (key ids: {have})", field="site", code=ErrorCode.BAD_FIELD
        )
    return web.json_response({"customer_id": site_user_id(site, subject), "site": site})


def operations() -> list[Operation]:
    customer = path_param("customer_id", "the customer's id (as the desk shows it)", CUSTOMER_ID.pattern)
    admin_only = "a token of an agent who is no admin"
    return [
        Operation(
            "GET",
            "/api/admin/customers",
            find_site_user,
            "The customer id a website's verified user has here (admins)",
            tag="admin",
            auth=(AGENT,),
            params=(
                Param("site", "query", "the site key id (`kid`) their tokens are signed with; optional with one key"),
                Param("subject", "query", "the site's id of its user (the token's `sub`)", required=True),
            ),
            answers=(Answer(200, "their customer id", ref("SiteUser")),),
            problems=problems(400, 401, 403, s403=admin_only),
        ),
        Operation(
            "GET",
            "/api/admin/customers/{customer_id}",
            export_customer,
            "Everything kept about a customer, as one JSON document (admins; a data access request)",
            tag="admin",
            auth=(AGENT,),
            description="Every conversation whole (summary, context, every event: messages, notes, transcripts, "
            "flow steps, calls), their callbacks, and the attachments and recordings those name. Audited.",
            params=(customer,),
            answers=(Answer(200, "the export", ref("CustomerExport")),),
            problems=problems(400, 401, 403, 404, s403=admin_only, s404="nothing is kept about that customer"),
        ),
        Operation(
            "DELETE",
            "/api/admin/customers/{customer_id}",
            erase_customer,
            "Erase everything kept about a customer (admins; an erasure request); cannot be undone",
            tag="admin",
            auth=(AGENT,),
            description="Their open conversation is closed first; every conversation goes with its timeline, context, "
            "callbacks, attachments, recordings (this node's now, other nodes' own data directories at their next "
            "retention pass), its event log entries and undelivered webhook posts; the customer tokens the gateway "
            "gave them are refused (their browser starts afresh). Report counters keep their totals. Audited "
            "(the customer id and the counts).",
            params=(customer,),
            answers=(Answer(200, "erased: what went", ref("CustomerErasure")),),
            problems=problems(
                400,
                401,
                403,
                404,
                409,
                s403=admin_only,
                s404="nothing is kept about that customer",
                s409="`call_in_progress`: the customer is on a call now (nothing was erased)",
            ),
        ),
    ]


def add_routes(app: web.Application) -> None:
    api.register(app, operations())
