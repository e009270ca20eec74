"""Supervisors act on agents (the wallboard's agent rows, or the API): set one away or available, or sign one out.

- ``POST /api/supervisor/agents/{agent_id}/status`` ``{"status": "away"|"available"}``: **away** at once, whatever
  they are doing (a call ringing for them goes to the next agent, as when they press Away; a call they are on goes
  on: no new one comes), with the away reason ``set_by_supervisor`` (their desk says "A supervisor set you away");
  **available** only while a desk of theirs is open (an agent with no desk would be offered chats nobody answers).
- ``POST /api/supervisor/agents/{agent_id}/logout``: every login session of the agent ends on every node (their
  desks close and show the sign-in: "a supervisor signed you out"), they are set away, and the chats they had go
  back to the queue at the place they had, as when they log out themselves. Refused while they are on a call
  (``call_in_progress``): the caller would lose them; set them away, and sign them out when it ends.

Supervisors and admins only; the agent must be one (an account with the agent role). Each is one audit entry
(``agent.status``, ``agent.sign_out``) naming who did it.
"""

from __future__ import annotations

from aiohttp import web

from gateway.contact.agents import AGENT_ID, Agent
from gateway.errors import BadRequest, Conflict, NotFound
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import AgentStatus, CallStatus, Role
from gateway.wire import api
from gateway.wire.agent_status import SET_BY_SUPERVISOR, status_set
from gateway.wire.api import AGENT, Answer, Body, Operation, path_param, problems, ref
from gateway.wire.routes import agent_with_role, read_json
from gateway.wire.services import SERVICES, Services

SIGNED_OUT = "signed_out_by_supervisor"  # the revocation's reason (the desk's words: gateway/wire/agent_socket.py)


async def _target(request: web.Request, doing: str) -> tuple[Agent, Agent, Services]:
    """(the supervisor, the agent they act on, the services); 404 for no such agent, 409 for an account that takes
    no contacts."""
    boss = await agent_with_role(request, Role.ADMIN, Role.SUPERVISOR, doing=doing)
    s = request.app[SERVICES]
    agent_id = request.match_info["agent_id"]
    agent = await s.directory.lookup(agent_id) if AGENT_ID.match(agent_id) else None
    if agent is None:
        raise NotFound(f"there is no agent '{agent_id[:40]}'", field="agent_id")
    if not agent.has(Role.AGENT):
        raise Conflict(f"{agent.id} is no agent (roles: {', '.join(agent.roles) or 'none'})", field="agent_id")
    return boss, agent, s


async def set_agent_status(request: web.Request) -> web.Response:
    boss, agent, s = await _target(request, "set agents' status")
    body = await read_json(request)
    status = body.get("status")
    if status not in (AgentStatus.AWAY, AgentStatus.AVAILABLE):
        raise BadRequest("'status' must be 'away' or 'available'", field="status", code=ErrorCode.BAD_FIELD)
    if set(body) - {"status"}:
        raise BadRequest(f"unknown field '{sorted(set(body) - {'status'})[0][:40]}'", field="status")
    before = await s.presence.info(agent.id)
    if before["status"] == AgentStatus.OFFLINE and status == AgentStatus.AVAILABLE:
        raise Conflict(
            f"{agent.name} has no desk open: only they can make themselves available by opening it",
            field="status",
        )
    await s.presence.set_status(agent.id, AgentStatus(status), SET_BY_SUPERVISOR, tell=True)
    await status_set(s, agent, AgentStatus(status))
    after = await s.presence.info(agent.id)
    await s.audit.record(boss.id, "agent.status", agent.id, {"status": before["status"]}, {"status": after["status"]})
    return web.json_response(after)


async def sign_out_agent(request: web.Request) -> web.Response:
    boss, agent, s = await _target(request, "sign agents out")
    calls = await s.agent_calls.calls_of(agent.id)
    if any(c["status"] != CallStatus.RINGING for c in calls):
        raise Conflict(
            f"{agent.name} is on a call: set them away (no new contact comes), and sign them out when it ends",
            field="agent_id",
            code=ErrorCode.CALL_IN_PROGRESS,
        )
    await s.presence.set_status(agent.id, AgentStatus.AWAY, SET_BY_SUPERVISOR, tell=True)
    await status_set(s, agent, AgentStatus.AWAY)  # a call ringing for them goes to the next agent
    ended = await s.sessions.revoke_agent(agent.id, reason=SIGNED_OUT)
    requeued = await s.handover.release_agent(agent.id, "agent_logged_out")
    await s.audit.record(boss.id, "agent.sign_out", agent.id, None, {"sessions": ended, "requeued": len(requeued)})
    return web.json_response({"status": "signed_out", "sessions": ended, "requeued": len(requeued)})


def operations() -> list[Operation]:
    agent_id = path_param("agent_id", "the agent's id", AGENT_ID.pattern)
    readers = "a token of an agent who is neither admin nor supervisor"
    return [
        Operation(
            "POST",
            "/api/supervisor/agents/{agent_id}/status",
            set_agent_status,
            "Supervisors: set an agent away (at once) or available (only with a desk of theirs open)",
            tag="supervisor",
            auth=(AGENT,),
            params=(agent_id,),
            description="Away passes a call ringing for them to the next agent; a call they are on goes on. Their "
            "away reason is `set_by_supervisor`; their desks are told. One audit entry, `agent.status`.",
            body=Body("the status", ref("StatusInput")),
            answers=(Answer(200, "the agent as now", ref("AgentPresence")),),
            problems=problems(
                400, 401, 403, 404, 409, s403=readers, s409="not an agent, or available asked with no desk open"
            ),
        ),
        Operation(
            "POST",
            "/api/supervisor/agents/{agent_id}/logout",
            sign_out_agent,
            "Supervisors: sign an agent out on every node; their chats go back to the queue",
            tag="supervisor",
            auth=(AGENT,),
            params=(agent_id,),
            description="Every login session of theirs ends (desks close); they are set away; the chats they had "
            "(no call in progress) go back to the queue at their place. One audit entry, `agent.sign_out`.",
            answers=(Answer(200, "signed out", ref("SignedOut")),),
            problems=problems(
                401, 403, 404, 409, s403=readers, s409="`call_in_progress`: they are on a call; or not an agent"
            ),
        ),
    ]


def add_routes(app: web.Application) -> None:
    api.register(app, operations())
