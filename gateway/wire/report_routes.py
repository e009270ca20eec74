"""Historical reports over HTTP (supervisors and admins; the counters: gateway/ops/rollups.py).

``GET /api/reports?from=YYYY-MM-DD&to=YYYY-MM-DD[&interval=day|hour][&by=queue|agent|disposition][&queue=NAME]
[&format=csv]``: whole days of the center's time zone (``--center-timezone``), at most 90; JSON (``series`` of points
for every interval, ``totals``) or CSV (one row per key and interval start). ``GET /api/reports/flows/{flow}?from=&to=``:
a flow's path analytics. ``GET /api/reports/zone``: the center's time zone and today's date there (the reports page
asks it before its first report, for its presets). A bad parameter is a 400 problem naming it.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from aiohttp import web

from gateway.contact.agents import Agent
from gateway.errors import BadRequest
from gateway.ops.rollups import MAX_DAYS, MAX_POINTS, MAX_READ, csv_parts, json_parts
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import Role
from gateway.wire import api
from gateway.wire.api import AGENT, Answer, Operation, Param, path_param, problems
from gateway.wire.api_shapes import Schema, closed, enum_of
from gateway.wire.desk_routes import _identifier, _query
from gateway.wire.routes import agent_with_role
from gateway.wire.services import SERVICES
from ivr.loader import FLOW_NAME_RE

REPORT_PARAMS = ("from", "to", "interval", "by", "queue", "format", "token")
FLOW_PARAMS = ("from", "to", "token")


def _bad(name: str, text: str) -> BadRequest:
    return BadRequest(text, field=name, code=ErrorCode.BAD_FIELD)


async def _reader(request: web.Request) -> Agent:
    return await agent_with_role(request, Role.SUPERVISOR, Role.ADMIN, doing="read reports")


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


async def report(request: web.Request) -> web.StreamResponse:
    """GET /api/reports: see the module docstring."""
    await _reader(request)
    params = _query(request, REPORT_PARAMS)
    first, last = _range(params)
    interval = _choice(params, "interval", ("day", "hour"))
    by = _choice(params, "by", ("queue", "agent", "disposition", "away_reason"))
    fmt = _choice(params, "format", ("json", "csv"))
    queue = _identifier(params, "queue")
    if queue and by != "queue":
        raise _bad("queue", "'queue' filters a report by queue (by=queue)")
    services = request.app[SERVICES]
    if queue:
        _known_queue(queue, await services.queues.names() or set(), await services.reports.counted("queue"))
    body = await services.reports.report(first, last, interval=interval, by=by, queue=queue)
    # written a series at a time (the event loop runs between them; no second copy of a large report in memory)
    response = web.StreamResponse()
    response.content_type = "application/json" if fmt == "json" else "text/csv"
    response.charset = "utf-8"
    if fmt == "csv":
        name = f"report-{by}-{interval}-{first.isoformat()}-{last.isoformat()}.csv"
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.enable_compression()
    await response.prepare(request)
    if fmt == "json":
        for text in json_parts(body):
            await response.write(text.encode())
    else:
        for rows in csv_parts(body):
            out = io.StringIO()
            csv.writer(out, lineterminator="\r\n").writerows(rows)
            await response.write(out.getvalue().encode())
    await response.write_eof()
    return response


def _known_queue(queue: str, existing: set[str], counted: list[str]) -> None:
    """A queue filter names a queue that exists, or one that was counted (since deleted); otherwise its report would
    be zeros that look like a quiet queue: a 400 naming it (and the queue it may mean: names are case-sensitive)."""
    known = existing | set(counted)
    if queue in known:
        return
    twin = next((q for q in sorted(known) if q.lower() == queue.lower()), None)
    hint = f": did you mean '{twin}'? (names are case-sensitive)" if twin else ""
    raise _bad("queue", f"there is no queue '{queue}' and none was ever counted{hint}")


async def flow_paths(request: web.Request) -> web.Response:
    """GET /api/reports/flows/{flow}: path analytics of a flow over whole days (the center's)."""
    await _reader(request)
    params = _query(request, FLOW_PARAMS)
    first, last = _range(params)
    flow = request.match_info["flow"]
    if not FLOW_NAME_RE.fullmatch(flow) or len(flow) > 64:
        raise _bad("flow", "'flow' is a flow's name: 1-64 letters, digits, - and _")
    return web.json_response(await request.app[SERVICES].reports.flow(flow, first, last))


async def zone(request: web.Request) -> web.Response:
    """GET /api/reports/zone: the center's time zone and its date now."""
    await _reader(request)
    _query(request, ("token",))
    services = request.app[SERVICES]
    now = services.wallboard.clock()  # the node's clock (a test's, in tests)
    return web.json_response({"zone": services.reports.zone.key, "today": services.reports.today(now).isoformat()})


_NUMBER: Schema = {"anyOf": [{"type": "number"}, {"type": "null"}]}
_METRICS: Schema = {"type": "object", "additionalProperties": _NUMBER, "description": "the metrics (docs/reports.md)"}
REPORT: Schema = closed(
    {
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "interval": enum_of(["day", "hour"]),
        "by": enum_of(["queue", "agent", "disposition", "away_reason"]),
        "zone": {"type": "string", "description": "the center's IANA time zone: the days and hours are its own"},
        "sl_threshold_s": {"type": "number", "description": "the service level of a queue without its own"},
        "sl_thresholds_s": {
            "type": "object",
            "additionalProperties": {"type": "number"},
            "description": "each queue's service-level threshold (s), as its contacts are counted",
        },
        "overall": {
            **_METRICS,
            "description": "every key's totals together (the metrics, each average over all of their contacts)",
        },
        "series": {
            "type": "array",
            "items": closed(
                {
                    "key": {"type": "string"},
                    "points": {"type": "array", "items": {**_METRICS, "properties": {"start": {"type": "string"}}}},
                }
            ),
        },
        "totals": {"type": "array", "items": {**_METRICS, "properties": {"key": {"type": "string"}}}},
    },
    description="offered, handled, abandoned, abandoned_wait_ms_avg, moved_out, callbacks_booked / reached / "
    "unreachable, "
    "service_level, asa_ms, aht_talk_ms / hold_ms / wrap_ms, chat_first_response_ms, chat_resolution_ms, aht_chat_ms, "
    "aht_call_ms, call_segments, chat_segments, transfers, escalations, ivr_sessions, ivr_contained, rated, rating_avg, "
    "csat per key and interval (by disposition: closed; by away_reason: time_away_ms); docs/reports.md defines each",
)
FLOW_PATHS: Schema = closed(
    {
        "flow": {"type": "string"},
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "transitions": {
            "type": "array",
            "items": closed({"from": {"type": "string"}, "to": {"type": "string"}, "count": {"type": "integer"}}),
        },
        "exits": {
            "type": "array",
            "items": closed(
                {"node": {"type": "string"}, "hangups": {"type": "integer"}, "agent_requests": {"type": "integer"}}
            ),
        },
    }
)
ZONE: Schema = closed(
    {
        "zone": {"type": "string", "description": "the center's IANA time zone (`--center-timezone`)"},
        "today": {"type": "string", "format": "date", "description": "the center's date now"},
    }
)
_DAY = {"type": "string", "format": "date"}
_RANGE = (
    Param("from", "query", "the first day (the center's), YYYY-MM-DD", _DAY, required=True),
    Param("to", "query", f"the last day, YYYY-MM-DD (at most {MAX_DAYS} days in all)", _DAY, required=True),
)
_PROBLEMS = problems(
    400,
    401,
    403,
    s400="a bad, unknown or repeated parameter, or a report over the bounds (`field` names it)",
    s403="not a supervisor or admin",
)


def operations() -> list[Operation]:
    return [
        Operation(
            "GET",
            "/api/reports",
            report,
            "Historical report by queue, agent or disposition, by day or hour, from the rollups",
            tag="reports",
            auth=(AGENT,),
            description="Supervisors and admins. Days and hours are the center's (`--center-timezone`, `zone` in "
            "the answer); each point's `start` is local time with its UTC offset. Every interval of the range is in "
            "each series (zeros where nothing happened; a day has the hours its clock shows: 23 or 24 points "
            f"when daylight saving time begins or ends). At most {MAX_POINTS:,} points (keys with something in the "
            f"range x intervals) and "
            f"{MAX_READ:,} day counters read per report: beyond, a 400 names `interval` or `to`. Definitions: "
            "docs/reports.md.",
            params=(
                *_RANGE,
                Param("interval", "query", "the points' interval", enum_of(["day", "hour"])),
                Param("by", "query", "the dimension", enum_of(["queue", "agent", "disposition", "away_reason"])),
                Param("queue", "query", "one queue only (with by=queue)", {"type": "string", "maxLength": 128}),
                Param("format", "query", "csv: one row per key and interval start", enum_of(["json", "csv"])),
            ),
            answers=(
                Answer(
                    200,
                    "the report (with format=csv: text/csv, a header row, then the same figures)",
                    REPORT,
                    alternatives={"text/csv": {"type": "string"}},
                ),
            ),
            problems=_PROBLEMS,
        ),
        Operation(
            "GET",
            "/api/reports/flows/{flow}",
            flow_paths,
            "Path analytics of a flow: transitions between its nodes, hang-ups and agent requests per node",
            tag="reports",
            auth=(AGENT,),
            description="Supervisors and admins.",
            params=(path_param("flow", "the flow's name", r"^[A-Za-z0-9_-]{1,64}$"), *_RANGE),
            answers=(Answer(200, "the flow's paths", FLOW_PATHS),),
            problems=_PROBLEMS,
        ),
        Operation(
            "GET",
            "/api/reports/zone",
            zone,
            "The center's time zone and today's date there (the reports' days)",
            tag="reports",
            auth=(AGENT,),
            description="Supervisors and admins. The reports page asks it before its first report (its presets: "
            "today, yesterday, the last 7 or 30 days, are the center's).",
            answers=(Answer(200, "the zone", ZONE),),
            problems=problems(
                400,
                401,
                403,
                s400="an unknown or repeated parameter (`field` names it)",
                s403="not a supervisor or admin",
            ),
        ),
    ]


def add_routes(app: web.Application) -> None:
    api.register(app, operations())
