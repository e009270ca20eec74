"""Supervisors in agents' chats (gateway/contact/chat_supervision.py): who joined a conversation's chat is the
conversation's ``supervisors`` field, changed with its ``supervisor_joined`` / ``supervisor_left`` event in one step
(``lua/join_chat-4.lua``)."""

from __future__ import annotations

from typing import Any

from gateway.store.store import Store, _s, encode


class SupervisionStore:
    def __init__(self, store: Store):
        self._store = store
        self._join = store.scripts["join_chat"]

    async def join(self, cid: str, supervisor_id: str, data: dict[str, Any], *, join: bool, now: int) -> str:
        """Join (``join``) or leave the chat, ``data`` in its event: the script's status ('ok', 'not_found', 'closed',
        'not_assigned', 'own', 'already', 'not_joined', 'timeline_full': lua/join_chat-4.lua)."""
        k = self._store.keys
        _, status = await self._join(
            [k.conv(cid), k.timeline(cid), k.conv_channel(cid), k.event_log],
            [
                supervisor_id,
                encode(data),
                "1" if join else "0",
                now,
                cid,
                self._store.event_log_max_entries,
                self._store.max_timeline_events,
            ],
        )
        return _s(status)
