"""Help requests (gateway/contact/help_requests.py): one sorted set of the open ones, the conversation's
``help_agent``, and each request's start and end on the timeline, changed together (``lua/help-5.lua``)."""

from __future__ import annotations

from typing import Any

from gateway.store.store import Store, _s, encode

MAX_OPEN = 200  # open requests the wallboard reads at most (oldest first)


class HelpStore:
    def __init__(self, store: Store):
        self._store = store
        self._help = store.scripts["help"]

    async def change(
        self, cid: str, agent_id: str, data: dict[str, Any], *, ask: bool, now: int, text: str = ""
    ) -> str:
        """Ask (``ask``, with ``text``) or end the agent's request in ``cid``, ``data`` in its event: the script's
        status."""
        k = self._store.keys
        keys = [k.conv(cid), k.timeline(cid), k.conv_channel(cid), k.event_log, k.help_requests]
        args: list[str | int] = [agent_id, "1" if ask else "0", encode(data), now, cid]
        args += [self._store.event_log_max_entries, text, self._store.max_timeline_events]
        return _s(await self._help(keys, args))

    async def open_requests(self) -> list[tuple[str, int, dict[str, str]]]:
        """The open requests, oldest first: (conversation id, since ms, its hash's fields: state, agent_id, queue,
        help_agent, help_text, customer_id), read in one round trip. A conversation deleted since (retention, an
        erasure) is dropped from the set; a close or a hand-over took its request already (includes/help_over.lua)."""
        redis, k = self._store.redis, self._store.keys
        listed: list[Any] = list(await redis.zrange(k.help_requests, 0, MAX_OPEN - 1, withscores=True))
        fields = ("state", "agent_id", "queue", "help_agent", "help_text", "customer_id")
        cids = [_s(member) for member, _ in listed]
        read = await self._store.conversation_fields(cids, *fields)
        rows: list[tuple[str, int, dict[str, str]]] = []
        gone: list[str] = []
        for cid, (_, score), values in zip(cids, listed, read, strict=True):
            conv = {f: v for f, v in zip(fields, values, strict=True) if v is not None}
            if not conv.get("state"):
                gone.append(cid)
            elif conv["state"] == "assigned" and conv.get("help_agent") and conv["help_agent"] == conv.get("agent_id"):
                rows.append((cid, int(score), conv))
        if gone:
            await redis.zrem(k.help_requests, *gone)
        return rows
