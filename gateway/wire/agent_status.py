"""An agent's status set, by the agent at their desk or by a supervisor: what goes with it, in one place.

- **available**: "ready for the next one": their after-call work is over.
- **away**: a call ringing for them goes to the next agent at once (as a miss would, without waiting it out).
"""

from __future__ import annotations

import logging

from gateway.contact.agents import Agent
from gateway.errors import GatewayError
from gateway.protocol.states import AgentStatus, CallStatus
from gateway.store.store import StoreError
from gateway.wire.services import Services

log = logging.getLogger(__name__)

SET_BY_SUPERVISOR = "set_by_supervisor"  # the away reason of an agent a supervisor set away


async def status_set(s: Services, agent: Agent, status: AgentStatus) -> None:
    """What goes with ``agent``'s status once it is set (Presence.set_status): the calls and after-call work."""
    if status == AgentStatus.AVAILABLE:
        await s.agent_calls.wrap_up_done(agent.id)
        return
    for call in await s.agent_calls.calls_of(agent.id):
        if call["status"] != CallStatus.RINGING:
            continue
        try:
            await s.call_commands.run(agent, "went_away", call["call_id"])
        except (GatewayError, StoreError) as exc:  # it rings out as a miss, as before; away is set
            log.warning("a ringing call not passed on: %s", exc, extra={"agent_id": agent.id})
