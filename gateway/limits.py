"""Abuse limits: how much one customer, and one client address, may take.

The widget is a public door, so what one client can take is bounded:

* **messages** and **new conversations**: token buckets in Redis, one per customer and one per client
  address (``--limit-messages-per-minute``, ``--limit-conversations-per-hour``; the address gets 10x the
  customer's, since several customers may share one address behind a NAT). A bucket holds as many tokens
  as the limit (a burst of that size is allowed: a widget resending its offline outbox) and refills
  continuously. Refill and take are one Lua script over every bucket involved, so all nodes share the
  same buckets and a request takes from all of them or from none. A message needs a conversation token
  too when it will open a new conversation (the customer has none open): decided in the same script.
* **concurrent calls** per customer and per address: a sorted set of the calls each holds, scored by when
  the entry expires. A node refreshes the entries of its live calls every :data:`CALL_REFRESH_SECONDS`;
  an entry of a node that died expires after :data:`CALL_SLOT_SECONDS` and stops counting. Taking a slot
  is one script (drop the expired, count, add), so two nodes never both take the last one.
* **WebSocket connections** per address on this node: a plain counter in memory (a connection lives on
  exactly one node).

Redis keys: see ``gateway/store.py`` (``P:rl:*`` buckets, ``P:calls:*`` call slots).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .client_ip import Network, parse_networks
from .config import Settings
from .errors import TooManyRequests
from .store import Keys
from .tasks import cancel_and_wait

log = logging.getLogger(__name__)

ADDRESS_FACTOR = 10            # an address may take this many times one customer's share of messages/conversations
CALL_SLOT_SECONDS = 60.0       # a call slot not refreshed for this long (its node died) stops counting
CALL_REFRESH_SECONDS = 20.0

# Take one token from each bucket involved, or from none.
# KEYS: customer hash, msg bucket (customer), msg bucket (address), conv bucket (customer), conv bucket (address)
# ARGV: now ms, conversation key prefix, '1' to take message tokens, then (capacity, ms per token) for the four
# buckets in the order of KEYS[2..5].
# Returns {0, opens} when taken (opens: 1 if a conversation token was taken too) or {wait ms, bucket index}.
_TAKE_SCRIPT = """
local now = tonumber(ARGV[1])
local opens = 1
local current = redis.call('HGET', KEYS[1], 'current')
if current then
  local state = redis.call('HGET', ARGV[2] .. current, 'state')
  if state and state ~= 'closed' then opens = 0 end
end
local chosen = {}
if ARGV[3] == '1' then chosen[#chosen + 1] = 2; chosen[#chosen + 1] = 3 end
if opens == 1 then chosen[#chosen + 1] = 4; chosen[#chosen + 1] = 5 end
local levels = {}
local wait, which = 0, 0
for _, i in ipairs(chosen) do
  local cap = tonumber(ARGV[2 + 2 * (i - 1)])
  local per = tonumber(ARGV[3 + 2 * (i - 1)])
  local b = redis.call('HMGET', KEYS[i], 't', 'ts')
  local level = cap
  if b[1] then
    local elapsed = math.max(0, now - tonumber(b[2]))
    level = math.min(cap, tonumber(b[1]) + elapsed / per)
  end
  levels[i] = level
  if level < 1 and (1 - level) * per > wait then wait, which = (1 - level) * per, i end
end
if wait > 0 then return {math.ceil(wait), which} end
for _, i in ipairs(chosen) do
  local cap = tonumber(ARGV[2 + 2 * (i - 1)])
  local per = tonumber(ARGV[3 + 2 * (i - 1)])
  redis.call('HSET', KEYS[i], 't', tostring(levels[i] - 1), 'ts', ARGV[1])
  redis.call('PEXPIRE', KEYS[i], math.ceil(cap * per) + 1000)  -- full again by then: nothing to remember
end
return {0, opens}
"""

# KEYS: customer calls zset, address calls zset   ARGV: now ms, expires ms, member, customer limit, address limit
# Returns 'ok', 'customer' or 'address' (which limit refused it).
_ACQUIRE_CALL_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 'customer' end
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 'address' end
end
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3])
  redis.call('PEXPIREAT', KEYS[i], ARGV[2])
end
return 'ok'
"""


class RateLimited(TooManyRequests):
    """A message or a new conversation over its limit; ``retry_after`` says when one is allowed again."""


class CallLimited(Exception):
    """This customer or address already holds all the calls it may: ``which`` is 'customer' or 'address'."""

    def __init__(self, which: str):
        super().__init__(which)
        self.which = which


@dataclass(frozen=True, slots=True)
class LimitConfig:
    messages_per_minute: int = 30
    conversations_per_hour: int = 20
    calls_per_customer: int = 1
    calls_per_ip: int = 5
    connections_per_ip: int = 50
    trusted_proxies: tuple[Network, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> LimitConfig:
        return cls(messages_per_minute=settings.limit_messages_per_minute,
                   conversations_per_hour=settings.limit_conversations_per_hour,
                   calls_per_customer=settings.limit_calls_per_customer, calls_per_ip=settings.limit_calls_per_ip,
                   connections_per_ip=settings.limit_connections_per_ip,
                   trusted_proxies=parse_networks(settings.trusted_proxies))


@dataclass(frozen=True, slots=True)
class _Slot:
    member: str
    customer_key: str
    address_key: str


class Limits:
    """The node's view of the shared limits. ``clock`` (seconds) is replaceable so tests move time."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, config: LimitConfig,
                 clock: Callable[[], float] = time.time):
        self.redis = redis
        self.keys = keys
        self.config = config
        self.clock = clock
        self._take = redis.register_script(_TAKE_SCRIPT)
        self._acquire = redis.register_script(_ACQUIRE_CALL_SCRIPT)
        self._slots: dict[str, _Slot] = {}          # call id -> its entries, for calls on this node
        self._connections: Counter[str] = Counter()  # address -> open sockets on this node
        self._refresher: asyncio.Task[None] | None = None

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    # ---------------------------------------------------------------- messages and conversations

    async def take_message(self, customer_id: str, address: str) -> None:
        """Count one customer message (and a new conversation if it will open one); RateLimited if over."""
        await self._take_tokens(customer_id, address, messages=True)

    async def take_conversation(self, customer_id: str, address: str) -> None:
        """Count a new conversation if the customer has none open (a call opens one); RateLimited if over."""
        await self._take_tokens(customer_id, address, messages=False)

    async def _take_tokens(self, customer_id: str, address: str, *, messages: bool) -> None:
        c, k = self.config, self.keys
        msg_ms = 60_000 / c.messages_per_minute
        conv_ms = 3_600_000 / c.conversations_per_hour
        wait_ms, which = await self._take(
            keys=[k.customer(customer_id), k.rate_bucket("msg", "c", customer_id), k.rate_bucket("msg", "ip", address),
                  k.rate_bucket("conv", "c", customer_id), k.rate_bucket("conv", "ip", address)],
            args=[self._now_ms(), k.conv(""), "1" if messages else "0",
                  c.messages_per_minute, msg_ms, c.messages_per_minute * ADDRESS_FACTOR, msg_ms / ADDRESS_FACTOR,
                  c.conversations_per_hour, conv_ms, c.conversations_per_hour * ADDRESS_FACTOR,
                  conv_ms / ADDRESS_FACTOR])
        wait_ms, which = int(wait_ms), int(which)
        if wait_ms <= 0:
            return
        retry_after = max(1, math.ceil(wait_ms / 1000))
        what = "messages" if which in (2, 3) else "new conversations"
        log.info("rate limited: %s of %s (%s), retry after %d s", what,
                 "the customer" if which in (2, 4) else "the address", address, retry_after,
                 extra={"customer_id": customer_id})
        text = ("You're sending messages too fast" if what == "messages"
                else "Too many new conversations")
        raise RateLimited(f"{text}; try again in {retry_after} s", retry_after=retry_after)

    # ---------------------------------------------------------------- concurrent calls

    async def acquire_call(self, call_id: str, customer_id: str, address: str) -> None:
        """Take a call slot for this customer and address (every node counts the same); CallLimited if none is
        left. Released by :meth:`release_call` (idempotent), or by expiry if this node dies."""
        k = self.keys
        slot = _Slot(f"{customer_id}/{call_id}", k.call_slots("c", customer_id), k.call_slots("ip", address))
        now = self._now_ms()
        result = await self._acquire(keys=[slot.customer_key, slot.address_key],
                                     args=[now, now + int(CALL_SLOT_SECONDS * 1000), slot.member,
                                           self.config.calls_per_customer, self.config.calls_per_ip])
        which = result.decode() if isinstance(result, bytes) else str(result)
        if which != "ok":
            log.info("call refused: the %s holds its %d calls", which,
                     self.config.calls_per_customer if which == "customer" else self.config.calls_per_ip,
                     extra={"customer_id": customer_id})
            raise CallLimited(which)
        self._slots[call_id] = slot

    async def release_call(self, call_id: str) -> None:
        """Give the call's slot back (once: a second call is a no-op)."""
        slot = self._slots.pop(call_id, None)
        if slot is None:
            return
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrem(slot.customer_key, slot.member)
        pipe.zrem(slot.address_key, slot.member)
        await pipe.execute()

    async def refresh_calls(self) -> None:
        """Keep the slots of this node's live calls from expiring."""
        if not self._slots:
            return
        expires = self._now_ms() + int(CALL_SLOT_SECONDS * 1000)
        pipe = self.redis.pipeline(transaction=False)
        for slot in list(self._slots.values()):
            for key in (slot.customer_key, slot.address_key):
                pipe.zadd(key, {slot.member: expires}, xx=True)
                pipe.pexpireat(key, expires)
        await pipe.execute()

    def held_calls(self) -> list[str]:
        return sorted(self._slots)

    # ---------------------------------------------------------------- connections (this node)

    def open_connection(self, address: str) -> bool:
        """Count a new socket from ``address``; False (not counted) when the address has all it may."""
        if self._connections[address] >= self.config.connections_per_ip:
            return False
        self._connections[address] += 1
        return True

    def close_connection(self, address: str) -> None:
        self._connections[address] -= 1
        if self._connections[address] <= 0:
            del self._connections[address]

    # ---------------------------------------------------------------- lifetime

    async def start(self) -> None:
        self._refresher = asyncio.create_task(self._refresh_loop(), name="limits-slot-refresher")

    async def stop(self) -> None:
        await cancel_and_wait(self._refresher)
        self._refresher = None

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(CALL_REFRESH_SECONDS)
            try:
                await self.refresh_calls()
            except RedisError as exc:   # next round tries again; a slot lives 3 rounds
                log.warning("call slots not refreshed: %s", exc)
