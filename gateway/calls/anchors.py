"""Which node holds each call: written while the call waits for or talks to an agent (``P:call:ID:node``).

The hand-off (:mod:`gateway.calls.agent_calls`) writes and clears it; the
commands (:mod:`gateway.calls.commands`) read it to send a desk's command to
the node that holds the call's media.
"""

from __future__ import annotations

from gateway.store.store import Store

CALL_NODE_TTL = 24 * 3600


class CallAnchors:
    def __init__(self, store: Store, node_id: str) -> None:
        self.store = store
        self.node_id = node_id

    async def anchored(self, call_id: str) -> None:
        """This node holds the call (it waits for or talks to an agent)."""
        await self.store.anchor_call(call_id, self.node_id, ttl_seconds=CALL_NODE_TTL)

    async def released(self, call_id: str) -> None:
        await self.store.release_call(call_id)

    async def node_of(self, call_id: str) -> str | None:
        """The node holding the call, if any node does."""
        return await self.store.call_node(call_id)
