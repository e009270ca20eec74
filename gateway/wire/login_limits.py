"""Login limits: counted before the password is checked, per (agent id, address), per address, per agent.

The password check (scrypt, about 41 ms of CPU) is what an attacker makes the gateway spend, and
every check is a guess. So an attempt is *counted first*, in one Lua script that also refuses it
when over a limit; only an attempt the script let through reaches scrypt. Forty concurrent guesses
are therefore forty serialised script runs: the first few pass, the rest get 429 without a hash.

Three buckets, each ``{n: failures counted, until: ms}``; an attempt is refused while ``now < until``
of any bucket that applies, else counted in all three; once a bucket's ``n`` reaches its ``free``
allowance every further failure sets ``until = now + min(cap, base * 2 ** (n - free))``: exponential
backoff, never a permanent lock. A successful login gives the attempt back (``n - 1``; the pair's
bucket is cleared), so only failures accumulate.

- **(agent id, address)** (5 free, then 1 s, 2 s, 4 s ... 15 min): guesses at one password from one
  address. It is keyed by the address too, so an attacker failing from elsewhere never stops the real
  agent logging in from their own address.
- **address** (20 free, then the same backoff): every failed attempt from one address whatever the
  agent id, so spraying unknown ids (each costs a dummy scrypt, so the timing does not say which ids
  exist) is limited too. Unknown ids count exactly like known ones: the 429s do not reveal them either.
- **agent, all addresses** (100 free, then the same backoff): a generous ceiling against a
  distributed attack (many addresses, each under its own limit). Without it a botnet could make
  unbounded guesses at one password. It is the one bucket a stranger can fill for the real agent, so
  addresses the agent logged in from successfully in the last 30 days (``P:login:known:ID``, at most
  20) are exempt from it: the real agent keeps working from the office during such an attack; only a
  first login from a new address waits.

Redis keys: ``P:login:fail:pair:ID:ADDR``, ``P:login:fail:ip:ADDR``, ``P:login:fail:agent:ID`` (hash
``n``, ``until``; expire an hour after the last counted failure), ``P:login:known:ID`` (zset of
addresses scored by the last success, ms); gateway/store/keys.py. The two scripts: gateway/store/lua/login_*.lua.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from gateway.client_ip import Network, client_ip, limit_key
from gateway.errors import TooManyRequests
from gateway.store.limit_store import LimitStore
from gateway.store.store import Store

log = logging.getLogger(__name__)

KNOWN_ADDRESS_DAYS = 30
KNOWN_ADDRESSES = 20


@dataclass(frozen=True, slots=True)
class Backoff:
    free: int  # failures allowed before any wait
    base_ms: int = 1000  # the first wait; doubles with every further failure
    cap_ms: int = 15 * 60 * 1000


@dataclass(frozen=True, slots=True)
class LoginLimitConfig:
    pair: Backoff = Backoff(free=5)
    address: Backoff = Backoff(free=20)
    agent: Backoff = Backoff(free=100)
    idle_ms: int = 3600 * 1000  # a bucket with no failure for this long (after its wait) is forgotten


_WHICH = {1: "agent id and address", 2: "address", 3: "agent id (all addresses)"}


class LoginLimits:
    """Shared by every node through Redis. ``clock`` (seconds) is replaceable so tests move time."""

    def __init__(
        self,
        store: Store,
        trusted_proxies: tuple[Network, ...],
        config: LoginLimitConfig | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.db = LimitStore(store)
        self.proxies = trusted_proxies
        self.config = config or LoginLimitConfig()
        self.clock = clock

    def address(self, request: web.BaseRequest) -> str:
        return limit_key(client_ip(request, self.proxies))

    async def attempt(self, agent_id: str, address: str) -> None:
        """Count a login attempt before its password is checked; TooManyRequests (with ``retry_after``) if over."""
        c = self.config
        args: list[int | str] = [int(self.clock() * 1000), address, c.idle_ms]
        for b in (c.pair, c.address, c.agent):
            args += [b.free, b.base_ms, b.cap_ms]
        wait_ms, which = await self.db.login_attempt(agent_id, address, args)
        if wait_ms <= 0:
            return
        retry_after = max(1, math.ceil(wait_ms / 1000))
        log.info(
            "login refused: too many failures for the %s (%s); retry after %d s",
            _WHICH.get(which, "?"),
            address,
            retry_after,
            extra={"agent_id": agent_id},
        )
        raise TooManyRequests(f"too many failed logins; try again in {retry_after} s", retry_after=retry_after)

    async def succeeded(self, agent_id: str, address: str) -> None:
        c = self.config
        await self.db.login_succeeded(
            agent_id,
            address,
            [
                int(self.clock() * 1000),
                address,
                KNOWN_ADDRESS_DAYS * 86400 * 1000,
                KNOWN_ADDRESSES,
                c.address.free,
                c.agent.free,
            ],
        )
