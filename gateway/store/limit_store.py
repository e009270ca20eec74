"""Abuse limits in Redis: concurrent-call slots (gateway/contact/limits.py) and failed-login buckets
(gateway/wire/login_limits.py). The message and conversation token buckets are taken inside the store's
open-conversation script (``includes/take_tokens.lua``). Keys: gateway/store/keys.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gateway.store.scripts import Arg
from gateway.store.store import Store, _s


class LimitStore:
    def __init__(self, store: Store):
        self.keys = store.keys
        self._redis = store.redis
        self._acquire = store.scripts["acquire_call_slot"]
        self._attempt = store.scripts["login_attempt"]
        self._succeeded = store.scripts["login_succeeded"]
        self._take = store.scripts["take_tokens"]
        self._turn_pair = store.scripts["welcome_turn_pair"]

    # ---------------------------------------------------------------- token buckets of one kind

    async def take_token(self, bucket_keys: tuple[str, str], rates: Sequence[float], *, now: int) -> tuple[int, int]:
        """One token from both buckets (a customer's and an address'), or none: (0, -1) when taken, else (ms to
        wait, which bucket is short: 0 the customer's, 1 the address')."""
        wait, which = await self._take(list(bucket_keys), [*rates, now])
        return int(wait), int(which)

    async def welcome_turn_pair(
        self,
        pair_key: str,
        bucket_keys: Sequence[str],
        rates: Sequence[float],
        *,
        now: int,
        keep_ms: int,
        username: str,
        expires: int,
    ) -> tuple[str | None, bool, int, int]:
        """The TURN username of a welcome (see welcome_turn_pair-2.lua): (the one held in ``pair_key`` while
        ``keep_ms`` of it are left, else ``username`` for a token from every bucket of ``bucket_keys`` (the
        holder's, and a customer's address'); None when refused, new or held, ms to wait, which bucket is short:
        0 the holder's, 1 the address')."""
        name, new, wait, which = await self._turn_pair(
            [pair_key, *bucket_keys], [*rates, now, keep_ms, username, expires]
        )
        return (_s(name) or None), bool(int(new)), int(wait), int(which)

    # ---------------------------------------------------------------- concurrent calls

    def call_slot_keys(self, customer_id: str, address: str) -> tuple[str, str]:
        """The call-slot sets of a customer and of an address."""
        return self.keys.call_slots("c", customer_id), self.keys.call_slots("ip", address)

    async def acquire_call_slot(
        self,
        slot_keys: tuple[str, str],
        member: str,
        *,
        now: int,
        expires: int,
        customer_limit: int,
        address_limit: int,
    ) -> str:
        """'ok', 'customer' or 'address' (which limit refused it), or 'duplicate' (``member`` holds one already)."""
        return _s(await self._acquire(list(slot_keys), [now, expires, member, customer_limit, address_limit]))

    async def release_call_slot(self, slot_keys: tuple[str, str], member: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in slot_keys:
                pipe.zrem(key, member)
            await pipe.execute()

    async def refresh_call_slots(self, slots: Iterable[tuple[tuple[str, str], str]], *, expires: int) -> None:
        """Keep the slots (keys, member) from expiring until ``expires`` (ms); one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for slot_keys, member in slots:
                for key in slot_keys:
                    pipe.zadd(key, {member: expires}, xx=True)
                    pipe.pexpireat(key, expires)
            await pipe.execute()

    # ---------------------------------------------------------------- failed logins

    def _login_keys(self, agent_id: str, address: str) -> list[str]:
        return [*self.keys.login_failures(agent_id, address), self.keys.login_known_addresses(agent_id)]

    async def login_attempt(self, agent_id: str, address: str, args: Sequence[Arg]) -> tuple[int, int]:
        """Count an attempt (see login_attempt-4.lua for ``args``): (0, 0), or (wait ms, bucket 1-3) when refused."""
        wait_ms, which = (int(x) for x in await self._attempt(self._login_keys(agent_id, address), args))
        return wait_ms, which

    async def login_succeeded(self, agent_id: str, address: str, args: Sequence[Arg]) -> None:
        """Give the counted attempt back (see login_succeeded-4.lua for ``args``)."""
        await self._succeeded(self._login_keys(agent_id, address), args)
