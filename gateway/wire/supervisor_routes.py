"""Supervisors act on agents (the wallboard's agent rows, or the API): set one away or available, or sign one out.

- ``POST /api/supervisor/agents/{agent_id}/status`` ``{"status": "away"|"available"}``: **away** at once, whatever
  they are doing (a call ringing for them goes to the next agent, as when they press Away; a call they are on goes
  on: no new one comes), with the away reason ``set_by_supervisor`` (their desk says "A supervisor set you away");
  **available** only while a desk of theirs is open (an agent with no desk would be offered chats nobody answers).
- ``POST /api/supervisor/agents/{agent_id}/logout``: every login session of the agent ends on every node (their
  desks close and show the sign-in: "a supervisor signed you out"), they are set away, and the chats they had go
  back to the queue at the place they had, as when they log out themselves. Refused while they are on a call
  (``call_in_progress``): the caller would lose them; set them away, and sign them out when it ends.

Supervisors and admins only; the agent must be one (an account with the agent role), not themselves (their own
desk does that), and an admin's account only for an admin (a supervisor could otherwise keep the admins out). Each is
one audit entry (``agent.status``, ``agent.sign_out``) naming who did it, with the status and away reason before and
after.

On a call (ringing or connected, as its agent or in a colleague's consultation) the sign-out is refused; the check is
made again once they are set away and a ringing call passed on (from then on nothing can ring for them), so an answer
pressed in between is never cut: that supervisor is told, and the agent stays away.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.contact.agents import AGENT_ID, Agent
from gateway.errors import BadRequest, Conflict, Forbidden, NotFound
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import AgentActivity, AgentStatus, CallStatus, Role
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
    if agent.id == boss.id:
        raise BadRequest("that is you: use your own desk (Available, Away, Log out)", field="agent_id")
    if agent.has(Role.ADMIN) and not boss.has(Role.ADMIN):
        raise Forbidden(f"{agent.name} is an admin: only an admin may {doing} of an admin", field="agent_id")
    if not agent.has(Role.AGENT):
        raise Conflict(f"{agent.id} is no agent (roles: {', '.join(agent.roles) or 'none'})", field="agent_id")
    return boss, agent, s


def _presence(info: dict[str, Any]) -> dict[str, str]:
    """What the audit entry keeps of an agent's presence."""
    return {"status": str(info["status"]), "away_reason": str(info.get("away_reason") or "")}


async def _on_a_call(s: Services, agent: Agent) -> bool:
    """Connected to them by any node's call registry, or on a call by their presence (a colleague's consultation: that
    call is registered under its agent; an answer the registry has not written yet). A call that only rang goes to
    the next agent when they are set away."""
    if any(c["status"] != CallStatus.RINGING for c in await s.agent_calls.calls_of(agent.id)):
        return True
    return bool((await s.presence.info(agent.id))["activity"] == AgentActivity.ON_CALL)


async def set_agent_status(request: web.Request) -> web.Response:
    boss, agent, s = await _target(request, "set agents' status")
    body = await read_json(request)
    status = body.get("status")
    if status not in (AgentStatus.AWAY, AgentStatus.AVAILABLE):
        raise BadRequest("'status' must be 'away' or 'available'", field="status", code=ErrorCode.BAD_FIELD)
    if set(body) - {"status"}:
        raise BadRequest(f"unknown field '{sorted(set(body) - {'status'})[0][:40]}'", field="status")
    before = await s.presence.info(agent.id)
    if before["status"] == AgentStatus.OFFLINE:
        raise Conflict(
            f"{agent.name} has no desk open (offline): only they can make themselves available, by opening it",
            field="status",
        )
    await s.presence.set_status(agent.id, AgentStatus(status), SET_BY_SUPERVISOR, tell=True)
    await s.audit.record(boss.id, "agent.status", agent.id, _presence(before), {"status": status})
    await status_set(s, agent, AgentStatus(status))
    return web.json_response(await s.presence.info(agent.id))


async def sign_out_agent(request: web.Request) -> web.Response:
    boss, agent, s = await _target(request, "sign agents out")
    busy = f"{agent.name} is on a call: set them away (no new contact comes), and sign them out when it ends"
    if await _on_a_call(s, agent):
        raise Conflict(busy, field="agent_id", code=ErrorCode.CALL_IN_PROGRESS)
    before = await s.presence.info(agent.id)
    await s.presence.set_status(agent.id, AgentStatus.AWAY, SET_BY_SUPERVISOR, tell=True)
    await status_set(s, agent, AgentStatus.AWAY)  # a call ringing for them goes to the next agent
    if await _on_a_call(s, agent):  # answered meanwhile: set away (nothing rings for them now), never cut
        await s.audit.record(boss.id, "agent.status", agent.id, _presence(before), {"status": AgentStatus.AWAY})
        raise Conflict(f"{busy} (they are away now)", field="agent_id", code=ErrorCode.CALL_IN_PROGRESS)
    ended = await s.sessions.revoke_agent(agent.id, reason=SIGNED_OUT)
    await s.audit.record(boss.id, "agent.sign_out", agent.id, _presence(before), {"sessions": ended})
    requeued = await s.handover.release_agent(agent.id, "agent_logged_out")
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
