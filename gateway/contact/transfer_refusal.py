"""Why a conversation could not be handed straight to a colleague, in words an agent can act on.

The store's transfer script refuses with a reason (``TransferRefusal``); the desk shows the error frame's message
(code ``transfer_refused``), so the message says how busy the colleague is and what to do instead.
"""

from __future__ import annotations

from enum import StrEnum


class TransferRefusal(StrEnum):
    """The reasons the store's transfer script gives (gateway/store/lua/transfer-8.lua)."""

    NOT_ASSIGNED = "not_assigned"
    AGENT_UNAVAILABLE = "agent_unavailable"
    AGENT_OFFLINE = "agent_offline"
    AGENT_FULL = "agent_full"


INSTEAD = "transfer to a queue instead (the next free agent takes it)"


def refusal_text(reason: str, name: str, agent: dict[str, str], holds: int) -> str:
    """The message for a refused transfer to the agent called ``name``; ``agent``: their presence hash (capacity),
    ``holds``: how many conversations they hold now."""
    match TransferRefusal(reason):
        case TransferRefusal.NOT_ASSIGNED:
            return "the conversation is not assigned to you any more"
        case TransferRefusal.AGENT_UNAVAILABLE:
            return f"{name} is not available: {INSTEAD}"
        case TransferRefusal.AGENT_OFFLINE:
            return f"{name} has no desk open: {INSTEAD}"
        case TransferRefusal.AGENT_FULL:
            capacity = agent.get("capacity", "?")
            return f"{name} has {holds} of {capacity} chats, no room for another: {INSTEAD}, or try {name} again later"
