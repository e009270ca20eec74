"""Abuse limits: how much one customer, and one client address, may take.

The widget is a public door, so what one client can take is bounded:

* **messages** and **new conversations**: token buckets in Redis, one per customer and one per client
  address (``--limit-messages-per-minute``, ``--limit-conversations-per-hour``; the address gets 10x the
  customer's, since several customers may share one address behind a NAT). A bucket holds as many tokens
  as the limit (a burst of that size is allowed: a widget resending its offline outbox) and refills
  continuously. Refill and take are one Lua function (gateway/store/lua/includes/take_tokens.lua) over every
  bucket involved, so all nodes share the same buckets and a request takes from all of them or from none.
  A message takes its tokens inside the store's open-conversation script, which it runs anyway (no extra
  round trip; a resent duplicate is answered before and costs nothing), plus conversation tokens when it
  opens one; a call that opens a conversation takes only those, in the same script.
* **attachments**: a token bucket per customer and per address (``--limit-attachments-per-hour``, an address
  10x), taken before an upload's body is read (gateway/wire/attachment_routes.py).
* **TURN pairs** (with ``--turn-urls``): token buckets per customer and per address (``--limit-call-ice-per-hour``,
  an address 10x): ``ice`` taken by ``call_ice`` on the customer socket, ``icew`` by a welcome's new pair (the same
  rates, counted apart, so that new visitors behind one address, an office or a carrier NAT, never spend the
  budget of its calls). A ``call_ice`` pair is asked for before its call exists, so it cannot be tied to a call the
  customer holds, and a welcome is sent to any socket: without the buckets any visitor could mint relay
  credentials at will (open sockets in a loop). A welcome gives back the pair the customer already holds
  (``P:turn:c:ID``) while half its lifetime is left, so a customer's reconnects and tabs cost nothing; beyond the
  buckets the welcome carries no pair (chat goes on). An agent's welcomes (the desk, an admin's test runs) are kept
  the same way (``P:turn:a:ID``), a new pair for a token of the agent's own ``icew`` bucket (no address bucket).
* **concurrent calls** per customer and per address: a sorted set of the calls each holds, scored by when
  the entry expires. A node refreshes the entries of its live calls every :data:`CALL_REFRESH_SECONDS`;
  an entry of a node that died expires after :data:`CALL_SLOT_SECONDS` and stops counting. Taking a slot
  is one script (drop the expired, count, add), so two nodes never both take the last one.
* **WebSocket connections** per address on this node: a plain counter in memory (a connection lives on
  exactly one node).

Redis keys: see ``gateway/store/keys.py`` (``P:rl:*`` buckets, ``P:calls:*`` call slots); the call slots' Redis
operations: gateway/store/limit_store.py.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from gateway.client_ip import Network, parse_networks
from gateway.config import Settings
from gateway.errors import Conflict, TooManyRequests
from gateway.store.limit_store import LimitStore
from gateway.store.store import Buckets, Store, StoreError
from gateway.tasks import cancel_and_wait
from media.ice import IceServer, TurnCredentials, turn_username

log = logging.getLogger(__name__)

ADDRESS_FACTOR = 10  # an address may take this many times one customer's share of messages/conversations
CALL_SLOT_SECONDS = 60.0  # a call slot not refreshed for this long (its node died) stops counting
CALL_REFRESH_SECONDS = 20.0


class CallLimited(Exception):
    """This customer or address already holds all the calls it may: ``which`` is 'customer' or 'address'."""

    def __init__(self, which: str):
        super().__init__(which)
        self.which = which


@dataclass(frozen=True, slots=True)
class LimitConfig:
    """The limits of gateway/config.py's ``limit_*`` settings (their defaults are declared there)."""

    messages_per_minute: int
    conversations_per_hour: int
    calls_per_customer: int
    calls_per_ip: int
    connections_per_ip: int
    trusted_proxies: tuple[Network, ...] = ()
    attachments_per_hour: int = 20
    call_ice_per_hour: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> LimitConfig:
        return cls(
            messages_per_minute=settings.limit_messages_per_minute,
            conversations_per_hour=settings.limit_conversations_per_hour,
            calls_per_customer=settings.limit_calls_per_customer,
            calls_per_ip=settings.limit_calls_per_ip,
            connections_per_ip=settings.limit_connections_per_ip,
            trusted_proxies=parse_networks(settings.trusted_proxies),
            attachments_per_hour=settings.limit_attachments_per_hour,
            call_ice_per_hour=settings.limit_call_ice_per_hour,
        )


@dataclass(frozen=True, slots=True)
class _Slot:
    member: str
    keys: tuple[str, str]  # the customer's and the address' call-slot sets


class Limits:
    """The node's view of the shared limits. ``clock`` (seconds) is replaceable so tests move time."""

    def __init__(self, store: Store, config: LimitConfig, clock: Callable[[], float] = time.time):
        self.db = LimitStore(store)
        self.keys = store.keys
        self.config = config
        self.clock = clock
        self._slots: dict[str, _Slot] = {}  # call id -> its entries, for calls on this node
        self._connections: Counter[str] = Counter()  # address -> open sockets on this node
        self._refresher: asyncio.Task[None] | None = None

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    # ---------------------------------------------------------------- messages and conversations

    def buckets(self, customer_id: str, address: str) -> Buckets:
        """The buckets a customer's message takes from (in the store's open-conversation script)."""
        c, k = self.config, self.keys
        msg_ms = 60_000 / c.messages_per_minute
        conv_ms = 3_600_000 / c.conversations_per_hour
        return Buckets(
            (
                k.rate_bucket("msg", "c", customer_id),
                k.rate_bucket("msg", "ip", address),
                k.rate_bucket("conv", "c", customer_id),
                k.rate_bucket("conv", "ip", address),
            ),
            (
                c.messages_per_minute,
                msg_ms,
                c.messages_per_minute * ADDRESS_FACTOR,
                msg_ms / ADDRESS_FACTOR,
                c.conversations_per_hour,
                conv_ms,
                c.conversations_per_hour * ADDRESS_FACTOR,
                conv_ms / ADDRESS_FACTOR,
            ),
        )

    async def take_attachment(self, customer_id: str, address: str) -> None:
        """One upload of a customer (``file`` buckets of the customer and the address, an address 10x); over
        either, TooManyRequests with ``retry_after`` and nothing taken."""
        await self._take_hourly("file", self.config.attachments_per_hour, customer_id, address, "Too many files")

    async def take_call_ice(self, customer_id: str, address: str) -> None:
        """One TURN pair (``call_ice``) of a customer socket (``ice`` buckets of the customer and the address, an
        address 10x); over either, TooManyRequests (field ``call_id``) with ``retry_after`` and nothing taken."""
        await self._take_hourly(
            "ice", self.config.call_ice_per_hour, customer_id, address, "Too many call set-ups", field="call_id"
        )

    async def welcome_turn(self, customer_id: str, address: str, turn: TurnCredentials) -> IceServer | None:
        """The TURN pair of a customer's welcome: the one the customer already holds (from any socket, on any node)
        while at least half its lifetime is left, so reconnecting and opening tabs mint nothing; else a new pair
        for a token of the ``icew`` buckets (the customer's and the address', 10x; the rates of ``call_ice``'s
        ``ice`` buckets, counted apart); None when either is empty (the welcome then carries no pair; a call asks
        ``call_ice``, itself counted)."""
        bucket_keys, rates = self._hourly("icew", self.config.call_ice_per_hour, customer_id, address)
        return await self._welcome_pair(("c", customer_id), f"customer-{customer_id}", bucket_keys, rates, turn)

    async def agent_welcome_turn(self, agent_id: str, turn: TurnCredentials) -> IceServer | None:
        """The TURN pair of an agent's welcome (their desk's sockets, and an admin's test runs): kept as a
        customer's is (``P:turn:a:ID``, given again while half its lifetime is left), a new one for a token of the
        agent's own ``icew`` bucket (``--limit-call-ice-per-hour``, bursts that many); None when it is empty (the
        desk asks ``call_ice`` for each call, bound to a call that rings for them). No address bucket: agents
        are accounts an admin made, and a contact centre's desks share one office address (a desk reloaded in a
        loop is bounded by its agent's bucket)."""
        per_hour = self.config.call_ice_per_hour
        bucket = self.keys.rate_bucket("icew", "a", agent_id)
        return await self._welcome_pair(
            ("a", agent_id), f"agent-{agent_id}", (bucket,), (per_hour, 3_600_000 / per_hour, 0, 0), turn
        )

    async def _welcome_pair(
        self,
        holder: tuple[str, str],
        user: str,
        bucket_keys: tuple[str, ...],
        rates: tuple[float, float, float, float],
        turn: TurnCredentials,
    ) -> IceServer | None:
        """The pair held by ``holder`` (``c`` or ``a``, and its id) while half its lifetime is left, else a new one
        for ``user`` for a token of each of ``bucket_keys``; None when one is empty."""
        now = self._now_ms()
        expires = now // 1000 + turn.ttl_seconds
        name, _, wait, which = await self.db.welcome_turn_pair(
            self.keys.turn_pair(*holder),
            bucket_keys,
            rates,
            now=now,
            keep_ms=turn.ttl_seconds * 1000 // 2,
            username=turn_username(expires, user),
            expires=expires * 1000,
        )
        if name is None:
            log.info(
                "welcome without a TURN pair: the %s took its %d pairs this hour (next in %d s)",
                "address" if which == 1 else user.split("-", 1)[0],
                self.config.call_ice_per_hour * (ADDRESS_FACTOR if which == 1 else 1),
                math.ceil(wait / 1000),
                extra={"customer_id" if holder[0] == "c" else "agent_id": holder[1]},
            )
            return None
        return turn.pair(name)

    def _hourly(
        self, kind: str, per_hour: int, customer_id: str, address: str
    ) -> tuple[tuple[str, str], tuple[float, float, float, float]]:
        """The ``kind`` buckets of the customer (``per_hour``, bursts that many) and the address (10x), and their
        (capacity, ms per token) each."""
        per_ms = 3_600_000 / per_hour
        return (
            (self.keys.rate_bucket(kind, "c", customer_id), self.keys.rate_bucket(kind, "ip", address)),
            (per_hour, per_ms, per_hour * ADDRESS_FACTOR, per_ms / ADDRESS_FACTOR),
        )

    async def _take_hourly(
        self, kind: str, per_hour: int, customer_id: str, address: str, what: str, field: str | None = None
    ) -> None:
        """A token from the ``kind`` buckets of the customer (``per_hour``, bursts that many) and the address (10x)."""
        bucket_keys, rates = self._hourly(kind, per_hour, customer_id, address)
        wait, which = await self.db.take_token(bucket_keys, rates, now=self._now_ms())
        if wait > 0:
            retry_after = max(1, math.ceil(wait / 1000))
            log.info(
                "%s refused: the %s is over %d per hour",
                kind,
                "customer" if which == 0 else "address",
                per_hour if which == 0 else per_hour * ADDRESS_FACTOR,
                extra={"customer_id": customer_id},
            )
            raise TooManyRequests(f"{what}; try again in {retry_after} s", field=field, retry_after=retry_after)

    # ---------------------------------------------------------------- concurrent calls

    async def acquire_call(self, call_id: str, customer_id: str, address: str) -> None:
        """Take a call slot for this customer and address (every node counts the same); CallLimited if none is
        left. Released by :meth:`release_call` (idempotent), or by expiry if this node dies."""
        if call_id in self._slots:  # an offer with the id of a call (being) set up here: never a second slot
            raise Conflict(f"call {call_id} already exists", field="call_id")
        slot = _Slot(f"{customer_id}/{call_id}", self.db.call_slot_keys(customer_id, address))
        self._slots[call_id] = slot  # before the await: a concurrent offer with the same id sees it
        now = self._now_ms()
        try:
            which = await self.db.acquire_call_slot(
                slot.keys,
                slot.member,
                now=now,
                expires=now + int(CALL_SLOT_SECONDS * 1000),
                customer_limit=self.config.calls_per_customer,
                address_limit=self.config.calls_per_ip,
            )
        except BaseException:
            del self._slots[call_id]
            raise
        if which == "ok":
            return
        del self._slots[call_id]
        if which == "duplicate":  # the same customer's call id, held on another node
            raise Conflict(f"call {call_id} already exists", field="call_id")
        log.info(
            "call refused: the %s holds its %d calls",
            which,
            self.config.calls_per_customer if which == "customer" else self.config.calls_per_ip,
            extra={"customer_id": customer_id},
        )
        raise CallLimited(which)

    async def release_call(self, call_id: str) -> None:
        """Give the call's slot back (once: a second call is a no-op)."""
        slot = self._slots.pop(call_id, None)
        if slot is None:
            return
        await self.db.release_call_slot(slot.keys, slot.member)

    async def release_lost_call(self, call_id: str, customer_id: str, address: str) -> None:
        """Give back the slot of a call a lost node held (gateway/calls/takeover.py): the customer may call again
        at once instead of after :data:`CALL_SLOT_SECONDS`."""
        await self.db.release_call_slot(self.db.call_slot_keys(customer_id, address), f"{customer_id}/{call_id}")

    async def refresh_calls(self) -> None:
        """Keep the slots of this node's live calls from expiring."""
        if not self._slots:
            return
        expires = self._now_ms() + int(CALL_SLOT_SECONDS * 1000)
        await self.db.refresh_call_slots([(slot.keys, slot.member) for slot in self._slots.values()], expires=expires)

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
            except StoreError as exc:  # next round tries again; a slot lives 3 rounds
                log.warning("call slots not refreshed: %s", exc)
