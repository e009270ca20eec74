"""Flow versions in Redis (rules: gateway/flows/versions.py). Keys: ``P:flows:head``, ``P:flows:live``,
``P:flows:updated``, ``P:flows:answers``, ``P:flows:retired``, ``P:flow:NAME:versions``, ``P:flow:NAME:log``, channel ``P:ch:flows``
(gateway/store/keys.py).

A version is written once under its id (the hash of its text) and never changed; the head (newest saved) and the
live (published) pointers move. Saving and publishing are scripts: a save checks the parent in the same step as it
writes (``save_flow_version``), a publish checks the version exists and tells every node in the same step
(``publish_flow``). Choosing the flow new calls or chats start in checks it is published and tells every node in
the same step (``choose_flow``). Retiring a flow checks no admin's choice makes it answer, takes its live pointer
away and tells every node in the same step (``retire_flow``); publishing one of its versions brings it back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gateway.protocol.bus import FlowAnswers, FlowPublished, FlowRetired
from gateway.store.store import Store, _s, encode


@dataclass(frozen=True, slots=True)
class StoredVersion:
    id: str
    yaml: str
    author: str
    at: int  # ms
    message: str
    parent: str

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "author": self.author, "at": self.at, "message": self.message, "parent": self.parent}


@dataclass(frozen=True, slots=True)
class Saved:
    status: str  # 'saved', 'unchanged' or 'stale'
    id: str  # the version saved, or the current head when stale


def _version(vid: str, raw: Any) -> StoredVersion:
    data = json.loads(_s(raw))
    return StoredVersion(
        vid, data["yaml"], data["author"], int(data["at"]), data.get("message", ""), data.get("parent", "")
    )


class FlowStore:
    def __init__(self, store: Store):
        self.keys = store.keys
        self._redis = store.redis
        self._save = store.scripts["save_flow_version"]
        self._publish = store.scripts["publish_flow"]
        self._choose = store.scripts["choose_flow"]
        self._retire = store.scripts["retire_flow"]
        self._unlock = store.scripts["release_lock"]

    async def lock(self, owner: str, *, ms: int) -> bool:
        """Take the flows' lock (a publish or a retirement under way) for ``ms`` unless someone holds it."""
        return bool(await self._redis.set(self.keys.flows_lock, owner, nx=True, px=ms))

    async def unlock(self, owner: str) -> None:
        """Release the lock if ``owner`` still holds it."""
        await self._unlock([self.keys.flows_lock], [owner])

    async def save(self, name: str, parent: str, version: StoredVersion, *, now: int) -> Saved:
        k = self.keys
        record = encode(
            {
                "yaml": version.yaml,
                "author": version.author,
                "at": version.at,
                "message": version.message,
                "parent": version.parent,
            }
        )
        status, vid = await self._save(
            [k.flows_head, k.flow_versions(name), k.flow_log(name), k.flows_updated],
            [name, parent, version.id, record, now],
        )
        return Saved(_s(status), _s(vid))

    async def publish(self, name: str, vid: str, *, now: int) -> tuple[str, str]:
        """('ok', the version live before, '' for none) or ('missing', '')."""
        k = self.keys
        message = FlowPublished(name, vid).to_json()
        status, before = await self._publish(
            [k.flow_versions(name), k.flows_live, k.flows_updated, k.flows_channel, k.flows_retired],
            [name, vid, now, message],
        )
        return _s(status), _s(before)

    async def retire(self, name: str, *, now: int) -> tuple[str, str]:
        """('ok', the version that was live, '' for none), ('retired', the version that was live then) for one
        retired already, ('answers', 'calls' or 'chats') while an admin's choice makes it answer them, or
        ('missing', '') for a flow with no saved version."""
        k = self.keys
        message = FlowRetired(name).to_json()
        status, detail = await self._retire(
            [k.flows_head, k.flows_live, k.flows_updated, k.flows_answers, k.flows_retired, k.flows_channel],
            [name, now, message],
        )
        return _s(status), _s(detail)

    async def retired(self) -> dict[str, str]:
        """The flows an admin retired (and nobody published again since): name -> the version that was live then
        ('' for none)."""
        return {_s(n): _s(v) for n, v in (await self._redis.hgetall(self.keys.flows_retired)).items()}

    async def choose(self, entry: str, name: str) -> tuple[str, str | None]:
        """Make ``name`` the flow new ``entry`` sessions start in ('' for no flow: new chats go straight to the
        agents): ('ok', what an admin chose before: a name, '' for no flow, None for no choice) or ('unpublished',
        before) when ``name`` has no published version."""
        k = self.keys
        message = FlowAnswers(entry, name).to_json()
        status, before, chose = await self._choose(
            [k.flows_live, k.flows_answers, k.flows_channel], [entry, name, message]
        )
        return _s(status), _s(before) if _s(chose) == "1" else None

    async def answers(self) -> dict[str, str]:
        """The flows admins chose: entry (``calls`` / ``chats``) -> flow name ('' for no flow)."""
        return {_s(e): _s(n) for e, n in (await self._redis.hgetall(self.keys.flows_answers)).items()}

    async def version(self, name: str, vid: str) -> StoredVersion | None:
        raw = await self._redis.hget(self.keys.flow_versions(name), vid)
        return _version(vid, raw) if raw is not None else None

    async def versions(self, name: str) -> list[StoredVersion]:
        """Every version of the flow, in the order they were first saved."""
        ids = [_s(v) for v in await self._redis.lrange(self.keys.flow_log(name), 0, -1)]
        if not ids:
            return []
        raws = await self._redis.hmget(self.keys.flow_versions(name), ids)
        return [_version(vid, raw) for vid, raw in zip(ids, raws, strict=True) if raw is not None]

    async def pointers(self) -> tuple[dict[str, str], dict[str, str], dict[str, int]]:
        """Every flow's head, live version and last change (ms), by name."""
        k = self.keys
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(k.flows_head)
            pipe.hgetall(k.flows_live)
            pipe.hgetall(k.flows_updated)
            heads, live, updated = await pipe.execute()
        return (
            {_s(n): _s(v) for n, v in heads.items()},
            {_s(n): _s(v) for n, v in live.items()},
            {_s(n): int(_s(v)) for n, v in updated.items()},
        )

    async def live(self) -> dict[str, str]:
        """Flow name -> its published version id."""
        return {_s(n): _s(v) for n, v in (await self._redis.hgetall(self.keys.flows_live)).items()}

    async def head(self, name: str) -> str:
        return _s(await self._redis.hget(self.keys.flows_head, name) or b"")
