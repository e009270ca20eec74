"""Historical reports over HTTP (supervisors and admins; the counters: gateway/ops/rollups.py).

``GET /api/reports?from=YYYY-MM-DD&to=YYYY-MM-DD[&interval=day|hour][&by=queue|agent|disposition][&queue=NAME]
[&format=csv]``: whole UTC days, at most 90; JSON (``series`` of points for every interval, ``totals``) or CSV (one
row per key and interval start). ``GET /api/reports/flows/{flow}?from=&to=``: a flow's path analytics. A bad
parameter is a 400 problem naming it.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from aiohttp import web

from gateway.contact.agents import Agent
from gateway.errors import BadRequest, Forbidden
from gateway.ops.rollups import MAX_DAYS, csv_rows
from gateway.protocol.codes import ErrorCode
from gateway.wire.desk_routes import _identifier, _query
from gateway.wire.routes import agent_of
from gateway.wire.services import SERVICES

REPORT_PARAMS = ("from", "to", "interval", "by", "queue", "format", "token")
FLOW_PARAMS = ("from", "to", "token")
READERS = frozenset({"supervisor", "admin"})


def _bad(name: str, text: str) -> BadRequest:
    return BadRequest(text, field=name, code=ErrorCode.BAD_FIELD)


async def _reader(request: web.Request) -> Agent:
    agent = await agent_of(request)
    if not READERS & set(agent.roles):
        raise Forbidden("reports are for supervisors and admins")
    return agent


def _day(params: dict[str, str], name: str) -> date:
    value = params.get(name)
    if not value:
        raise _bad(name, f"'{name}' is required (a date YYYY-MM-DD)")
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(name, f"'{name}' is not a date YYYY-MM-DD") from None


def _range(params: dict[str, str]) -> tuple[date, date]:
    first, last = _day(params, "from"), _day(params, "to")
    if last < first:
        raise _bad("to", "'to' is before 'from'")
    if (last - first).days + 1 > MAX_DAYS:
        raise _bad("to", f"a report covers at most {MAX_DAYS} days")
    return first, last


def _choice(params: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = params.get(name, choices[0])
    if value not in choices:
        raise _bad(name, f"'{name}' is one of {', '.join(choices)}")
    return value


async def report(request: web.Request) -> web.Response:
    """GET /api/reports: see the module docstring."""
    await _reader(request)
    params = _query(request, REPORT_PARAMS)
    first, last = _range(params)
    interval = _choice(params, "interval", ("day", "hour"))
    by = _choice(params, "by", ("queue", "agent", "disposition"))
    fmt = _choice(params, "format", ("json", "csv"))
    queue = _identifier(params, "queue")
    if queue and by != "queue":
        raise _bad("queue", "'queue' filters a report by queue (by=queue)")
    body = await request.app[SERVICES].reports.report(first, last, interval=interval, by=by, queue=queue)
    if fmt == "json":
        return web.json_response(body)
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(csv_rows(body))
    name = f"report-{by}-{interval}-{first.isoformat()}-{last.isoformat()}.csv"
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def flow_paths(request: web.Request) -> web.Response:
    """GET /api/reports/flows/{flow}: path analytics of a flow over whole UTC days."""
    await _reader(request)
    params = _query(request, FLOW_PARAMS)
    first, last = _range(params)
    flow = request.match_info["flow"]
    if not flow or len(flow) > 128:
        raise _bad("flow", "'flow' is a flow's name (at most 128 characters)")
    return web.json_response(await request.app[SERVICES].reports.flow(flow, first, last))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/reports", report)
    app.router.add_get("/api/reports/flows/{flow}", flow_paths)
