"""The Lua scripts: one file each in ``lua/``, shared code in ``lua/includes/``, run by SHA.

A script's file name says what it does and how many keys it takes at least: ``assign-7.lua`` (as BullMQ
names its scripts). Every key a script touches is passed in ``KEYS`` (Cluster-safe: no key is built inside
Lua); a script with optional keys says so in its header. A line ``--@include name`` is replaced by
``lua/includes/name.lua`` (once per script, includes may include others).

:class:`Scripts` registers every script with one Redis client, once per node: a call runs ``EVALSHA`` and,
when the server does not know the script yet (``NOSCRIPT``: a restarted or failed-over Redis), loads it and
runs it again (redis-py's ``Script``).

A chat message's own scripts (:data:`BATCHED`: ``append``, ``customer_append``) are the one Redis call of every
message, and under load many are called at once: calls of them made while the event loop runs one pass go to Redis
together, in one pipeline (:class:`Batch`: one connection, one write, one wait for the replies, instead of one each;
redis-py's cost of a call was the largest share of a message's CPU). Each call still gets its own reply or its own
error; a call alone in its pass goes the same way (:func:`pipelined`, leaner than redis-py's pipeline and its
``Script``). Not on a Redis Cluster (each goes as before).
"""

from __future__ import annotations

import asyncio
import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

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

    def __init__(self, redis: aioredis.Redis, source: ScriptSource, batch: Batch | None = None):
        self.name = source.name
        self.keys = source.keys
        self._text = source.text
        self._script = redis.register_script(source.text)
        self.sha: str = self._script.sha
        self._batch = batch

    async def __call__(self, keys: Sequence[str], args: Sequence[Arg] = ()) -> Any:
        if len(keys) < self.keys:
            raise ValueError(f"script {self.name} takes {self.keys} keys, got {len(keys)}")
        if self._batch is not None:
            return await self._batch.run(self, list(keys), list(args))
        return await self.alone(keys, args)

    async def alone(self, keys: Sequence[str], args: Sequence[Arg] = ()) -> Any:
        """One call on its own (``EVALSHA``, loaded first when Redis does not know it)."""
        return await self._script(keys=list(keys), args=list(args))

    async def queue(self, pipe: Any, keys: Sequence[str], args: Sequence[Arg] = ()) -> None:
        """Run it as part of a pipeline (its result comes with the pipeline's; a forgotten script is loaded first)."""
        if len(keys) < self.keys:
            raise ValueError(f"script {self.name} takes {self.keys} keys, got {len(keys)}")
        if isinstance(pipe, ClusterPipeline):  # which loads no script first (NOSCRIPT): EVAL, the text each time
            pipe.eval(self._text, len(keys), *keys, *args)
            return
        await self._script(keys=list(keys), args=list(args), client=pipe)


BATCHED = frozenset({"append", "customer_append"})  # a chat message's own scripts (module docstring)


class _Again(Exception):
    """The call's batch was not sent (its leader was cancelled first): it goes again, in a new batch."""


class _Alone(Exception):
    """Redis did not know the script (``NOSCRIPT``: restarted, failed over): the call runs alone, loading it."""


@dataclass(slots=True)
class _Call:
    script: Script
    keys: list[str]
    args: list[Arg]
    reply: asyncio.Future[Any]


class Batch:
    """Script calls made in one pass of the event loop, sent together (module docstring).

    The first call of a pass leads: it lets the loop finish the pass (``sleep(0)``: the other calls of the pass
    join), then starts the pass's round trip (:meth:`_trip`, a task of its own), which sends them all in one
    pipeline and hands each its reply (a script's error to its own caller; a ``NOSCRIPT`` makes that call run alone,
    loading the script). A call whose caller was cancelled before the round trip started is left out (one cancelled
    while the trip waits for a pooled connection still goes). A failure of the whole
    pipeline (Redis unreachable) is every call's; a leader cancelled before the batch left makes the others go
    again. Once it left, no caller's cancel stops it: Redis runs it, and a script run twice would store an event
    without a client id twice."""

    def __init__(self, redis: aioredis.Redis):
        self._redis = redis
        self._waiting: list[_Call] = []
        self._trips: set[asyncio.Task[None]] = set()  # the round trips under way (held: not collected)

    async def run(self, script: Script, keys: list[str], args: list[Arg]) -> Any:
        loop = asyncio.get_running_loop()
        if self._waiting and self._waiting[0].reply.get_loop() is not loop:
            self._waiting = []  # left by a leader whose event loop was closed under it: nobody sends those
        call = _Call(script, keys, args, loop.create_future())
        self._waiting.append(call)
        if len(self._waiting) == 1:  # this call leads the pass
            try:
                await asyncio.sleep(0)  # the other calls of this pass join
            except BaseException:
                batch, self._waiting = self._waiting, []
                for other in batch:
                    if other is not call and not other.reply.done():
                        other.reply.set_exception(_Again())
                raise
            batch, self._waiting = [c for c in self._waiting if not c.reply.done()], []
            trip = loop.create_task(self._trip(batch))
            self._trips.add(trip)
            trip.add_done_callback(self._trips.discard)
        try:
            return await call.reply  # a cancel of this caller cancels its reply only: the trip goes on
        except _Again:
            return await self.run(script, keys, args)
        except _Alone:
            return await script.alone(keys, args)

    async def _trip(self, batch: list[_Call]) -> None:
        """Send ``batch`` and hand each call its reply, or the batch's failure.

        A task of its own, which no caller's cancel cuts: once written, Redis runs the whole batch, and sending a
        call again would run its script twice (an event without a client id stored twice). A caller cancelled
        meanwhile is left out of the answers (its reply is cancelled)."""
        commands: list[tuple[Arg, ...]] = [("EVALSHA", c.script.sha, len(c.keys), *c.keys, *c.args) for c in batch]
        try:
            replies = await pipelined(self._redis, commands)
        except asyncio.CancelledError:  # the event loop's end (nothing else cancels it): sent perhaps, so not again
            for c in batch:
                c.reply.cancel()
            raise
        except Exception as exc:  # the whole batch's failure (Redis unreachable, a timeout): raised in every caller
            for c in batch:
                if not c.reply.done():
                    c.reply.set_exception(exc)
            return
        for c, reply in zip(batch, replies, strict=True):
            if c.reply.done():  # its caller was cancelled meanwhile
                continue
            if isinstance(reply, NoScriptError):  # Redis lost its scripts (restarted): this one runs alone
                c.reply.set_exception(_Alone())
            elif isinstance(reply, Exception):
                c.reply.set_exception(reply)
            else:
                c.reply.set_result(reply)


async def pipelined(redis: aioredis.Redis, commands: list[tuple[Arg, ...]], *, blocks: float = 0.0) -> list[Any]:
    """Run ``commands`` on one connection of ``redis``'s pool, written at once, and return their replies in order,
    an error reply in its place (a ``ResponseError``, as a pipeline's ``execute(raise_on_error=False)`` gives it).

    What redis-py's pipeline does, without its per-command layers: it queued each command, encoded each argument
    in Python before handing them to hiredis, and read each reply under a timer of its own; here hiredis packs each
    command whole (the same bytes: an argument is a str, encoded UTF-8 strictly, bytes, an int or a float; a
    chat message's script call with 9 keys and 13 arguments: 7.5 us instead of 68 on a busy machine), the replies
    are written and read under one timer (the connection's ``socket_timeout``, redis-py's TimeoutError when it runs
    out: redis-py's ``send_packed_command`` ran the write in a ``wait_for`` of its own, on Python 3.11 a task and a
    timer per call) and handed back as the parser gives them. Any other failure (Redis gone, a timeout, a cancel
    midway) drops the connection, as the pipeline did: a half-read reply must not reach the next caller.
    ``blocks``: seconds a command may wait in Redis by design (``BLOCK``), added to the timer."""
    pool = redis.connection_pool
    conn = await pool.get_connection()
    try:
        replies: list[Any] = []
        async with asyncio.timeout(None if conn.socket_timeout is None else conn.socket_timeout + blocks):
            # (hiredis's type stub reads as a tuple of one; it takes any number)
            await _write(conn, [hiredis.pack_command(command) for command in commands])  # type: ignore[arg-type]
            for _ in commands:
                try:
                    replies.append(await conn.read_response(timeout=math.inf))
                except ResponseError as exc:  # the reply was read whole: the next one follows
                    replies.append(exc)
        return replies
    except TimeoutError:
        await conn.disconnect(nowait=True)
        raise RedisTimeoutError(f"Redis did not answer {len(commands)} commands in {conn.socket_timeout} s") from None
    except BaseException:
        await conn.disconnect(nowait=True)
        raise
    finally:
        await pool.release(conn)


async def _write(conn: AbstractConnection, packed: list[bytes]) -> None:
    """``send_packed_command`` without its ``wait_for`` (the caller's timer covers the write): the health check of
    an idle connection (a PING), then the bytes; a socket error is redis-py's ConnectionError, as it raises it."""
    await conn.check_health()
    try:
        await conn._send_packed_command(packed)
    except OSError as exc:
        raise RedisConnectionError(f"Error while writing to Redis: {exc}") from exc


class Scripts:
    """Every script, registered with ``redis`` (one per node: the store's)."""

    def __init__(self, redis: aioredis.Redis):
        batch = None if isinstance(redis, RedisCluster) else Batch(redis)
        self._scripts = {
            name: Script(redis, source, batch if name in BATCHED else None) for name, source in sources().items()
        }

    def __getitem__(self, name: str) -> Script:
        return self._scripts[name]
