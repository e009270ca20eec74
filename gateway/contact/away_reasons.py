"""Away reasons ("aux codes"): why an agent is away, chosen at the desk from a list an admin keeps.

An agent going away names one (``status`` frame ``reason``: a code of the list, or "" for none); the wallboard shows
its label beside the agent and how long they have been away, and the reports split the center's away time by it
(gateway/ops/agent_time.py). The list is one of the center's code lists (gateway/contact/code_lists.py: Redis
``P:center`` ``away_reasons``, versioned); a store where no admin wrote one has :data:`DEFAULT_REASONS`.

The gateway sets reasons of its own (:data:`GATEWAY_REASONS`: a missed or declined call, a lost call, a desk gone,
a logout, a disable, a supervisor): no code of the list may take one of those names, and an agent cannot claim
one. A reason taken off the list stays on the agents who are away with it, and in past reports.
"""

from __future__ import annotations

from gateway.contact.code_lists import CenterCodes, Code, CodeKind, CodeList, parse_codes
from gateway.store.store import Store

#: The away reasons the gateway sets itself (gateway/contact/presence.py, calls, logins, supervisors).
GATEWAY_REASONS = frozenset(
    {
        "missed_call",
        "declined_call",
        "call_lost",
        "agent_absent",
        "agent_logged_out",
        "agent_disabled",
        "agent_removed",
        "set_by_supervisor",
        "none",  # (not set: the reports' key of away time without a reason, gateway/ops/agent_time.py)
    }
)

AWAY_REASONS = CodeKind(
    field="away_reasons",
    key="reasons",
    noun="an away reason",
    reserved=GATEWAY_REASONS,
    reserved_why="is a reason the gateway sets itself",
)

DEFAULT_REASONS = (
    Code("break", "Break"),
    Code("lunch", "Lunch"),
    Code("meeting", "Meeting"),
    Code("training", "Training"),
    Code("other", "Other work"),
)


class AwayReasons(CenterCodes):
    def __init__(self, store: Store) -> None:
        super().__init__(AWAY_REASONS, store, DEFAULT_REASONS)

    async def allow(self, reason: str) -> None:
        """BadRequest (field ``reason``) unless an agent may go away with ``reason``: "" (none) or a code of the
        list."""
        if reason:
            await self.check(reason, "reason")


def parse_reasons(body: object) -> CodeList:
    """A list from a REST body ``{"reasons": [{"code", "label"}...], "version"}`` (BadRequest naming the field)."""
    return CodeList(AWAY_REASONS, *parse_codes(AWAY_REASONS, body))


def reason_list(reasons: tuple[Code, ...], version: int) -> CodeList:
    return CodeList(AWAY_REASONS, reasons, version)
