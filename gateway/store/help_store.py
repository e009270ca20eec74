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
        args = [agent_id, "1" if ask else "0", encode(data), now, cid, self._store.event_log_max_entries, text]
        return _s(await self._help(keys, args))

    async def open_requests(self) -> list[tuple[str, int, dict[str, str]]]:
        """The open requests, oldest first: (conversation id, since ms, its hash's fields: state, agent_id, queue,
        help_agent, help_text, customer_id). One whose conversation is gone, closed or no longer its asker's is dropped."""
        redis, k = self._store.redis, self._store.keys
        listed: list[Any] = list(await redis.zrange(k.help_requests, 0, MAX_OPEN - 1, withscores=True))
        rows: list[tuple[str, int, dict[str, str]]] = []
        stale: list[str] = []
        fields = ("state", "agent_id", "queue", "help_agent", "help_text", "customer_id")
        for member, score in listed:
            cid = _s(member)
            values = await redis.hmget(k.conv(cid), list(fields))
            conv = {f: _s(v) for f, v in zip(fields, values, strict=True) if v is not None}
            if (
                conv.get("state") != "assigned"
                or not conv.get("help_agent")
                or conv["help_agent"] != conv.get("agent_id")
            ):
                stale.append(cid)
                continue
            rows.append((cid, int(score), conv))
        if stale:
            await redis.zrem(k.help_requests, *stale)
        return rows
