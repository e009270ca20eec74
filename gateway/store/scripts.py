"""The Lua scripts: one file each in ``lua/``, shared code in ``lua/includes/``, run by SHA.

A script's file name says what it does and how many keys it takes at least: ``assign-7.lua`` (as BullMQ
names its scripts). Every key a script touches is passed in ``KEYS`` (Cluster-safe: no key is built inside
Lua); a script with optional keys says so in its header. A line ``--@include name`` is replaced by
``lua/includes/name.lua`` (once per script, includes may include others).

:class:`Scripts` registers every script with one Redis client, once per node: a call runs ``EVALSHA`` and,
when the server does not know the script yet (``NOSCRIPT``: a restarted or failed-over Redis), loads it and
runs it again (redis-py's ``Script``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterPipeline

LUA_DIR = Path(__file__).parent / "lua"
INCLUDES_DIR = LUA_DIR / "includes"
_INCLUDE = re.compile(r"^--@include\s+(?P<name>[a-z_]+)\s*$", re.MULTILINE)
_FILE_NAME = re.compile(r"^(?P<name>[a-z_]+)-(?P<keys>\d+)\.lua$")

Arg = str | int | float


@dataclass(frozen=True, slots=True)
class ScriptSource:
    name: str  # e.g. 'assign'
    keys: int  # how many KEYS it takes at least
    path: Path
    text: str  # with its includes resolved


def resolve_includes(text: str, *, seen: frozenset[str] = frozenset(), where: str = "") -> str:
    """``text`` with every ``--@include name`` line replaced by that include (each at most once)."""
    included: set[str] = set(seen)

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name in included:
            return f"-- (included above: {name})"
        path = INCLUDES_DIR / f"{name}.lua"
        if not path.is_file():
            raise FileNotFoundError(f"{where}: --@include {name}: no {path}")
        included.add(name)
        return resolve_includes(path.read_text(encoding="utf-8"), seen=frozenset(included), where=str(path)).rstrip(
            "\n"
        )

    return _INCLUDE.sub(replace, text)


@functools.cache
def sources() -> dict[str, ScriptSource]:
    """Every script in ``lua/``, by name (read once per process, on first use)."""
    found: dict[str, ScriptSource] = {}
    for path in sorted(LUA_DIR.glob("*.lua")):
        m = _FILE_NAME.match(path.name)
        if m is None:
            raise ValueError(f"{path}: a script's file is named 'what_it_does-N.lua' (N: its number of keys)")
        if m["name"] in found:
            raise ValueError(f"{path}: a second script named {m['name']}")
        text = resolve_includes(path.read_text(encoding="utf-8"), where=str(path))
        found[m["name"]] = ScriptSource(m["name"], int(m["keys"]), path, text)
    return found


class Script:
    """One script registered with a Redis client: ``await script(keys, args)``."""

    def __init__(self, redis: aioredis.Redis, source: ScriptSource):
        self.name = source.name
        self.keys = source.keys
        self._text = source.text
        self._script = redis.register_script(source.text)

    async def __call__(self, keys: Sequence[str], args: Sequence[Arg] = ()) -> Any:
        if len(keys) < self.keys:
            raise ValueError(f"script {self.name} takes {self.keys} keys, got {len(keys)}")
        return await self._script(keys=list(keys), args=list(args))

    async def queue(self, pipe: Any, keys: Sequence[str], args: Sequence[Arg] = ()) -> None:
        """Run it as part of a pipeline (its result comes with the pipeline's; a forgotten script is loaded first)."""
        if len(keys) < self.keys:
            raise ValueError(f"script {self.name} takes {self.keys} keys, got {len(keys)}")
        if isinstance(pipe, ClusterPipeline):  # which loads no script first (NOSCRIPT): EVAL, the text each time
            pipe.eval(self._text, len(keys), *keys, *args)
            return
        await self._script(keys=list(keys), args=list(args), client=pipe)


class Scripts:
    """Every script, registered with ``redis`` (one per node: the store's)."""

    def __init__(self, redis: aioredis.Redis):
        self._scripts = {name: Script(redis, source) for name, source in sources().items()}

    def __getitem__(self, name: str) -> Script:
        return self._scripts[name]
