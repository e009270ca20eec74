"""Conversations: the unit of the product. One id, one context, one append-only timeline.

This is the service the WebSocket handlers call. It enforces who may do what
(a customer only in their own conversation, an agent only in one assigned to
them) and turns store results into :mod:`gateway.errors`.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gateway.contact.callbacks import Callbacks
from gateway.contact.dispositions import Dispositions
from gateway.contact.queues import QueueSettings
from gateway.contact.report_facts import REPORT_FACTS, close_facts
from gateway.contact.routing import DEFAULT_QUEUE, Router, Skills, format_skills, now_ms
from gateway.contact.transfer_refusal import refusal_text
from gateway.contact.wait_estimate import WaitEstimates, estimate_wait_ms
from gateway.errors import Conflict, Forbidden, NotFound
from gateway.metrics import Metrics
from gateway.protocol import bus
from gateway.protocol.codes import ErrorCode
from gateway.protocol.states import CUSTOMER_VISIBLE, AgentStatus, Author, ConversationState, EventType
from gateway.store.desk_store import DeskStore
from gateway.store.queue_store import QueueStore
from gateway.store.store import Buckets, Store, to_event
from ivr.events import QueueStatus
from ivr.hours import Schedule

log = logging.getLogger(__name__)


TEST_PREFIX = "t_"  # a test run's conversation (gateway/flows/test_runs.py): never queued, counted nor posted out


CONVERSATION_ID = re.compile(r"^[ct]_[0-9a-f]{16}$")  # what the two below make (an API document's pattern)


def new_conversation_id() -> str:
    return "c_" + secrets.token_hex(8)


def new_test_conversation_id() -> str:
    return TEST_PREFIX + secrets.token_hex(8)


def is_test_conversation(cid: str) -> bool:
    """A test run's conversation: reports, event webhooks and routing leave it out (by its id alone)."""
    return cid.startswith(TEST_PREFIX)


@dataclass(frozen=True, slots=True)
class Stored:
    conversation_id: str
    event_id: str
    duplicate: bool
    state: str = ""  # the conversation's state when the message was stored ('' for a resent duplicate)
    opened: bool = False  # the message opened the conversation
    for_bot: bool = False  # ... for the chat bot (a chat flow was in service): the caller starts it


class Conversations:
    def __init__(
        self,
        store: Store,
        router: Router,
        dispositions: Dispositions,
        queue: str = DEFAULT_QUEUE,
        *,
        callbacks: Callbacks | None = None,
        bot_first: Callable[[], bool] = lambda: False,
        metrics: Metrics | None = None,
        queues: QueueSettings | None = None,
        clock: Callable[[], int] = now_ms,
    ):
        self.queues = queues  # the queues' settings: callback policy, hours (None: the flows' own alone)
        self.metrics = metrics if metrics is not None else Metrics()  # messages counted (gateway/metrics.py)
        self.callbacks = callbacks  # callbacks booked in conversations (None: this gateway runs without them)
        self.bot_first = bot_first  # now, a chat bot greets new conversations: they wait for it, not in the queue
        self.store = store
        self.desk_reads = DeskStore(store)  # summaries of many conversations in one round trip
        self.router = router
        self.dispositions = dispositions
        self.queue = queue
        self.clock = clock  # ms: the time events are written at (tests inject one)

    # ---------------------------------------------------------------- reading

    async def get(self, cid: str) -> dict[str, str] | None:
        """The conversation's record as stored (state, queue, agent), None if there is none."""
        return await self.store.conversation(cid)

    async def context(self, cid: str) -> dict[str, str]:
        """The variables collected so far (what the flows and the site told us)."""
        return await self.store.context(cid)

    async def summary(self, cid: str, *, names: dict[str, str] | None = None) -> dict[str, Any] | None:
        """What a desk shows of a conversation (None: there is none); ``names``: agent names the caller knows."""
        return (await self.summaries([cid], names=names))[0]

    async def summaries(self, cids: list[str], *, names: dict[str, str] | None = None) -> list[dict[str, Any] | None]:
        """:meth:`summary` of each of ``cids`` in at most three round trips whatever their number (the
        conversations, then the names of their agents not in ``names`` and their callbacks)."""
        return [summary for summary, _ in await self.summaries_and_newest(cids, names=names)]

    async def summaries_and_newest(
        self, cids: list[str], *, names: dict[str, str] | None = None
    ) -> list[tuple[dict[str, Any] | None, str | None]]:
        """:meth:`summaries`, each with the id of the conversation's newest event (None: none), read with it."""
        rows = await self.desk_reads.summary_rows(cids, EventType.MESSAGE)
        known = dict(names or {})
        unknown = sorted({a for conv, *_ in rows if conv and (a := conv.get("agent_id")) and a not in known})
        for aid, name in zip(unknown, await self.desk_reads.agent_names(unknown), strict=True):
            known[aid] = name or aid
        cb_ids = [conv.get("callback_id", "") if conv else "" for conv, *_ in rows]
        callbacks: dict[str, dict[str, Any] | None] = {}
        if self.callbacks is not None and any(cb_ids):
            callbacks = await self.callbacks.open_ones([c for c in cb_ids if c])
        out: list[tuple[dict[str, Any] | None, str | None]] = []
        for cid, (conv, ctx, last, newest), cb_id in zip(cids, rows, cb_ids, strict=True):
            if conv is None:
                out.append((None, newest))
                continue
            agent_id = conv.get("agent_id") or None
            summary = {
                "id": cid,
                "customer_id": conv.get("customer_id"),
                "state": conv.get("state"),
                "queue": conv.get("queue"),
                "agent_id": agent_id,
                "agent_name": known[agent_id] if agent_id else None,
                "created_at": int(conv.get("created_at") or 0),
                "updated_at": int(conv.get("updated_at") or 0),
                "queued_at": int(conv["queued_at"]) if conv.get("queued_at") else None,
                "context": ctx,
                "last_text": last["text"] if last else None,
                "calls": int(conv.get("calls") or 0),  # voice calls in it (a call-only one has no last_text)
                "callback": callbacks.get(cb_id) if cb_id else None,
                "rating": _rating(conv),
            }
            out.append((summary, newest))
        return out

    async def current_for_customer(self, customer_id: str) -> str | None:
        return await self.store.customer_current(customer_id)

    async def history(
        self, cid: str, after: str | None = None, *, for_customer: bool, steps: bool = False
    ) -> list[dict[str, Any]]:
        """The timeline after ``after``; ``for_customer``: what the customer sees of it (``steps``: and the flow's
        ``ivr`` steps, for a test run's console)."""
        events = await self.store.events(cid, after)
        if for_customer:
            events = [customer_view(e) for e in events if customer_visible(e["type"], steps=steps)]
        return events

    async def queue_position(self, cid: str) -> int | None:
        rank = await self.store.queue_rank(self.queue, cid)
        return None if rank is None else rank + 1

    async def queue_positions(self, cids: list[str]) -> list[int | None]:
        """:meth:`queue_position` of each of ``cids``, in one round trip."""
        return [None if rank is None else rank + 1 for rank in await self.store.queue_ranks(self.queue, cids)]

    async def waiting(self, limit: int = 50) -> list[dict[str, Any]]:
        return [s for s in await self.summaries(await self.router.waiting(limit)) if s is not None]

    async def assigned_to(self, agent_id: str) -> list[dict[str, Any]]:
        ids = await self.store.agent_conversations(agent_id)
        summaries = await self.summaries(ids)
        return sorted((s for s in summaries if s is not None), key=lambda s: s["created_at"])

    # ---------------------------------------------------------------- access

    async def require_customer(self, customer_id: str, cid: str) -> dict[str, str]:
        conv = await self.store.conversation(cid)
        if conv is None:
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
        if conv.get("customer_id") != customer_id:
            raise Forbidden("this conversation belongs to another customer", field="conversation_id")
        return conv

    async def require_agent(self, agent_id: str, cid: str) -> dict[str, str]:
        conv = await self.store.conversation(cid)
        if conv is None:
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
        if conv.get("agent_id") != agent_id:
            raise Forbidden("this conversation is not assigned to you", field="conversation_id")
        return conv

    # ---------------------------------------------------------------- writing

    async def customer_message(
        self,
        customer_id: str,
        client_id: str,
        text: str,
        context: dict[str, str],
        buckets: Buckets | None = None,
        *,
        current: str | None = None,
    ) -> Stored:
        """Store a customer's message exactly once per client id, opening a conversation if needed (with
        ``bot_first`` one that waits for the chat bot, which the caller starts when ``opened``).

        ``current``: the conversation the customer's socket follows; while it is their open one the message goes
        into it in one round trip (otherwise, or without it, the usual three: look up, open, append).

        ``buckets``: the rate limits it counts against (gateway/contact/limits.py); over one, TooManyRequests and
        nothing is stored."""
        data = {"author": Author.CUSTOMER, "text": text}
        if current:  # the common case in one round trip: a message into the open conversation the socket follows
            conv_id, event_id, status, state = await self.store.customer_append(
                customer_id,
                current,
                EventType.MESSAGE,
                {**data, "client_id": client_id},
                now=self.clock(),
                client_id=client_id,
                buckets=buckets,
            )
            if status in ("ok", "duplicate"):
                if status == "ok":
                    self.metrics.message(Author.CUSTOMER)
                await self.store.durable()  # with --redis-durable-replicas: a failover keeps what is acknowledged
                return Stored(conv_id, event_id, duplicate=status == "duplicate", state=state)
        return await self.customer_event(customer_id, client_id, EventType.MESSAGE, data, context, buckets)

    async def customer_event(
        self,
        customer_id: str,
        client_id: str,
        typ: EventType,
        data: dict[str, Any],
        context: dict[str, str],
        buckets: Buckets | None = None,
        *,
        prepare: Callable[[str], Awaitable[None]] | None = None,
    ) -> Stored:
        """:meth:`customer_message` for any event a customer adds (a message, an attachment): once per client id,
        in the customer's open conversation or a new one. ``prepare(cid)`` runs once the conversation is known and
        before the event is stored (an attachment's file is written there); it may run for more than one
        conversation when one closes meanwhile (the caller cleans up those not in the result)."""
        cids_key = self.store.keys.customer_client_ids(customer_id)
        seen, current = await self.store.customer_message_lookup(customer_id, client_id)
        if seen is not None:
            await self.store.durable()  # a retry after a refused wait: acknowledged only once replicas have it
            return Stored(seen[0], seen[1], duplicate=True)
        bot_first = self.bot_first()  # once: the flow that answers chats may change meanwhile
        for _ in range(3):  # the conversation may close between open and append: open anew
            opened = await self.store.open_conversation(
                customer_id,
                new_conversation_id(),
                self.queue,
                now=self.clock(),
                context=context,
                queued=not bot_first,
                buckets=buckets,
                current_hint=current,
            )
            current = None  # a second round reads it again
            cid, created = opened.conversation_id, opened.created
            if created:
                log.info("conversation opened", extra={"conversation_id": cid, "customer_id": customer_id})
                await self.store.publish(self.store.keys.customer_channel(customer_id), bus.Follow(cid))
                if not bot_first:
                    await self._queue_changed()
            if prepare is not None:
                await prepare(cid)
            conv_id, event_id, status = await self.store.append(
                cid,
                typ,
                {**data, "client_id": client_id},
                now=self.clock(),
                client_id=client_id,
                client_ids_key=cids_key,
            )
            if status == "ok" and typ == EventType.MESSAGE:
                self.metrics.message(Author.CUSTOMER)
            if status in ("ok", "duplicate"):
                await self.store.durable()  # with --redis-durable-replicas: a failover keeps what is acknowledged
                return Stored(
                    conv_id,
                    event_id,
                    duplicate=status == "duplicate",
                    state=opened.state,
                    opened=created,
                    for_bot=created and bot_first,
                )
        raise Conflict("the conversation kept closing; try again")

    async def agent_message(
        self, agent_id: str, agent_name: str, cid: str, client_id: str, text: str, *, note: bool = False
    ) -> Stored:
        # One round trip: the append script checks what require_agent and the closed check would read first.
        typ = EventType.NOTE if note else EventType.MESSAGE
        data: dict[str, Any] = {"text": text, "client_id": client_id, "agent_id": agent_id, "agent_name": agent_name}
        if not note:
            data["author"] = Author.AGENT
        conv_id, event_id, status = await self.store.append(
            cid, typ, data, now=self.clock(), client_id=client_id, required_agent=agent_id
        )
        if status == "not_found":
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
        if status == "not_assigned":
            raise Forbidden("this conversation is not assigned to you", field="conversation_id")
        if status == "closed":
            raise Conflict("the conversation is closed", field="conversation_id")
        if status not in ("ok", "duplicate"):
            raise Conflict(f"message not stored: {status.replace('_', ' ')}", field="conversation_id")
        if status == "ok" and not note:
            self.metrics.message(Author.AGENT)
        await self.store.durable()
        return Stored(conv_id, event_id, duplicate=status == "duplicate")

    async def close(
        self,
        agent_id: str,
        cid: str,
        disposition: str,
        *,
        system: bool = False,
        told: str = "closed",
        wrap: bool = False,
    ) -> None:
        """The agent closes their conversation with one of the center's dispositions (``system``: the gateway closes
        it for them with a disposition of its own, e.g. ``agent_left``; ``told``: the reason their desk's
        ``unassigned`` says, ``customer_ended`` when the customer ended it; ``wrap``: their after-call work so far
        counts, as when they close it)."""
        if not system:  # one of the center's (gateway/contact/dispositions.py), never one the gateway closes with
            await self.dispositions.check(disposition, "disposition")
        await self.require_agent(agent_id, cid)
        conv = await self.store.conversation(cid)
        queue = conv.get("queue", self.queue) if conv else self.queue
        now = self.clock()
        facts = await self._close_facts(cid, now, "" if system and not wrap else agent_id)  # (the gateway's: none)
        if system:
            facts["by_gateway"] = True  # the desk does not say "by" the agent it was with
        result = await self.store.close(cid, queue, agent_id, disposition, now=now, facts=facts)
        if result == "closed":
            raise Conflict("the conversation is already closed", field="conversation_id")
        if result != "ok":
            raise Conflict(f"cannot close: {result.replace('_', ' ')}", field="conversation_id")
        log.info("conversation closed (%s)", disposition, extra={"conversation_id": cid, "agent_id": agent_id})
        if conv and conv.get("customer_id"):  # their next conversation prefers this agent
            await self.store.set_last_agent(conv["customer_id"], agent_id)
        if self.callbacks is not None:
            await self.callbacks.conversation_closed(cid)
        await self.store.publish(self.store.keys.agent_channel(agent_id), bus.Unassigned(cid, told))
        self.router.kick()
        await self._queue_changed()

    async def rate(self, customer_id: str, cid: str, score: int, comment: str) -> dict[str, Any]:
        """The customer's satisfaction rating of their conversation, taken once it is closed and only once (a
        second is refused: ``already_rated``). Stored on the conversation's hash (``rating``, ``rating_comment``,
        ``rated_at``: what reports read) and as a ``rating`` event on its timeline; the agent who had it is told
        on their own channel (their desk left the conversation's at the close). Returns the event."""
        data: dict[str, Any] = {"score": score, "comment": comment}
        status, event_id = await self.store.rate(cid, customer_id, data, now=self.clock())
        match status:
            case "ok":
                pass
            case "not_found":
                raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
            case "forbidden":
                raise Forbidden("this conversation belongs to another customer", field="conversation_id")
            case "not_closed":
                raise Conflict("a conversation can be rated once it is closed", field="conversation_id")
            case _:
                raise Conflict(
                    "this conversation was rated already; a rating cannot be changed",
                    field="conversation_id",
                    code=ErrorCode.ALREADY_RATED,
                )
        event = to_event(cid, event_id, EventType.RATING, data)
        log.info("conversation rated %d/5", score, extra={"conversation_id": cid, "customer_id": customer_id})
        conv = await self.store.conversation(cid)
        if conv and conv.get("agent_id"):
            await self.store.publish(self.store.keys.agent_channel(conv["agent_id"]), bus.Rated(cid, event))
        return event

    async def requeue(
        self,
        cid: str,
        agent_id: str,
        reason: str,
        *,
        score: int,
        queue_name: str = "",
        since: int = 0,
        facts: dict[str, Any] | None = None,
    ) -> bool:
        """Take ``cid`` back from ``agent_id`` (a missed, declined or dropped call, a transfer to a queue) and
        queue it at ``score``, in ``queue_name`` if given; its queue's maximum wait counts from ``since`` if given
        (else from its place, ``score``, or when it last changed queue)."""
        result = await self.store.requeue(
            cid,
            self.queue,
            agent_id,
            reason,
            score=score,
            now=self.clock(),
            queue_name=queue_name,
            since=since,
            facts=facts,
        )
        if result != "ok":
            return False
        log.info("conversation back in the queue (%s)", reason, extra={"conversation_id": cid, "agent_id": agent_id})
        await self.store.publish(self.store.keys.agent_channel(agent_id), bus.Unassigned(cid, reason))
        self.router.kick()
        await self._queue_changed()
        return True

    async def _close_facts(self, cid: str, now: int, closer: str = "") -> dict[str, Any]:
        return close_facts(await self.store.events(cid), now, closer)

    async def has_chat(self, cid: str) -> bool:
        """Someone wrote in the conversation (a chat message, not only a call): a customer may be behind it."""
        return any(e["type"] == EventType.MESSAGE for e in await self.store.events(cid))

    async def caller_gone(self, cid: str, *, routed: bool, score: int, reason: str) -> str:
        """A call that waited for an agent ended unanswered (its caller hung up, or was lost with their node): the
        conversation it leaves may have nobody behind it. If the customer may still be there (chat messages in it,
        or a callback booked for it) it stays in the queue, or goes back there at ``score`` from the agent routing
        assigned it to while the call rang (only if the call ``routed`` it: a chat's or a callback's agent it went
        straight to keeps it). Otherwise it is closed with disposition ``abandoned``, from the queue or from that
        agent: never a queued conversation, or one assigned to an agent, with nobody behind it. Routing may assign
        it meanwhile: then it is read again (a few times). Returns ``requeued`` (in the queue), ``closed``, or ''
        (nothing to do: it was neither waiting nor ringing for this call)."""
        for _ in range(3):
            conv = await self.get(cid)
            if conv is None:
                return ""
            agent = conv.get("agent_id", "")
            take_back = conv.get("state") == ConversationState.ASSIGNED and bool(agent) and routed
            if conv.get("state") != ConversationState.QUEUED and not take_back:
                return ""
            if await self.has_chat(cid) or await self.callback_open(cid):
                if not take_back or await self.requeue(cid, agent, reason, score=score):
                    return "requeued"
            elif await self.abandon(cid, agent if take_back else "", reason):
                return "closed"
        return ""

    async def route_left_messages(self, cid: str, call_id: str) -> bool:
        """Call ``call_id`` of ``cid`` ended in its flow, never queued: customer messages written during it (its IVR
        answers no chat) go to the agents' queue, as one written after it would (gateway/wire/customer_socket.py
        ``_route_if_unattended``; a chat bot, when there is one, has them already). They reached nobody, the
        conversation open with no agent, until the customer wrote again (an exploratory test). True if queued."""
        if self.bot_first():
            return False
        conv = await self.get(cid)
        if conv is None or conv.get("state") != ConversationState.OPEN:
            return False
        events = await self.store.events(cid)
        start = next(
            (i for i, e in enumerate(events) if e["type"] == EventType.CALL_STARTED and e.get("call_id") == call_id),
            None,
        )
        if start is None or not any(
            e["type"] == EventType.MESSAGE and e.get("author") == Author.CUSTOMER for e in events[start:]
        ):
            return False
        callback = await self.callbacks.of_conversation(cid) if self.callbacks is not None else None
        queue = callback["queue"] if callback is not None and callback["queue"] else self.queue
        if not await self.enqueue(cid, queue):
            return False
        log.info("messages written during a call its flow ended: queued for the agents", extra={"conversation_id": cid})
        return True

    async def callback_open(self, cid: str) -> bool:
        """A callback is booked for the conversation (someone expects to be called back)."""
        return self.callbacks is not None and await self.callbacks.of_conversation(cid) is not None

    async def abandon(
        self, cid: str, agent_id: str, reason: str, *, disposition: str = "abandoned", away_ms: int = 0
    ) -> bool:
        """Close a conversation nobody is behind (its caller hung up or was lost, its customer left the page, or ended
        the chat: ``customer_ended``) from the routing queue or ``agent_id`` (its ringing agent, '' if none); False if
        it was not in that state. ``away_ms``: how long ago its customer left: its wait counts to then, not to now."""
        now = self.clock()
        facts = {**await self._close_facts(cid, now), "by_gateway": True, "left_at": now - away_ms}
        if await self.store.close(cid, self.queue, agent_id, disposition, now=now, facts=facts) != "ok":
            return False
        log.info("conversation closed: %s (%s)", disposition, reason, extra={"conversation_id": cid})
        if self.callbacks is not None:
            await self.callbacks.conversation_closed(cid)
        if agent_id:  # closed, not back in the queue: the desk reads a reason "call_..." as "back in the queue"
            await self.store.publish(self.store.keys.agent_channel(agent_id), bus.Unassigned(cid, "abandoned"))
        await self._queue_changed()
        return True

    async def invite_to_call(self, agent_id: str, agent_name: str, cid: str, ring_seconds: float = 60.0) -> None:
        """The agent offers the customer a voice call: the widget rings (answering calls that agent)."""
        conv = await self.require_agent(agent_id, cid)
        if conv.get("state") == ConversationState.CLOSED:
            raise Conflict("the conversation is closed", field="conversation_id")
        await self.record(
            cid,
            EventType.CALL_INVITE,
            {"agent_id": agent_id, "agent_name": agent_name, "ring_until": self.clock() + int(ring_seconds * 1000)},
        )

    async def transfer(
        self, cid: str, from_agent: str, to_agent: str, to_name: str, facts: dict[str, Any] | None = None
    ) -> None:
        """Hand ``cid`` from one agent straight to another; raises Conflict naming why it cannot."""
        result = await self.store.transfer(cid, from_agent, to_agent, to_name, now=self.clock(), facts=facts)
        if result != "ok":
            ((agent, holds, _),) = await self.store.agent_loads([to_agent], self.clock())
            raise Conflict(
                refusal_text(result, to_name or to_agent, agent, holds),
                field="agent_id",
                code=ErrorCode.TRANSFER_REFUSED,
            )
        log.info("transferred to %s", to_agent, extra={"conversation_id": cid, "agent_id": from_agent})
        await self.store.publish(self.store.keys.agent_channel(from_agent), bus.Unassigned(cid, "transferred"))
        await self.store.publish(self.store.keys.agent_channel(to_agent), bus.Assigned(cid))
        await self._queue_changed()

    async def open_for_flow(
        self, customer_id: str, context: dict[str, str], buckets: Buckets | None = None
    ) -> tuple[str, bool]:
        """The customer's open conversation, or a new one in state 'open' (a flow runs before routing).
        ``buckets``: the conversation rate limits a new one counts against (TooManyRequests, nothing opened)."""
        opened = await self.store.open_conversation(
            customer_id,
            new_conversation_id(),
            self.queue,
            now=self.clock(),
            context=context,
            queued=False,
            buckets=buckets,
            messages=False,
        )
        cid, created = opened.conversation_id, opened.created
        if created:
            log.info("conversation opened for a flow", extra={"conversation_id": cid, "customer_id": customer_id})
            await self.store.publish(self.store.keys.customer_channel(customer_id), bus.Follow(cid))
        return cid, created

    async def open_test(self, customer_id: str, context: dict[str, str]) -> tuple[str, bool]:
        """The test customer's open conversation, or a new test run conversation (``t_...``, state 'open', never
        queued: gateway/flows/test_runs.py); whether it was opened now. An admin's test is not rate limited."""
        opened = await self.store.open_conversation(
            customer_id, new_test_conversation_id(), self.queue, now=self.clock(), context=context, queued=False
        )
        if opened.created:
            log.info("test run conversation opened", extra={"conversation_id": opened.conversation_id})
        return opened.conversation_id, opened.created

    async def test_message(self, customer_id: str, cid: str, client_id: str, text: str) -> Stored:
        """The admin's message in their test run's conversation, once per client id; a run that ended takes none
        (Conflict: a new test starts a new run)."""
        data = {"author": Author.CUSTOMER, "text": text, "client_id": client_id}
        conv_id, event_id, status = await self.store.append(
            cid,
            EventType.MESSAGE,
            data,
            now=self.clock(),
            client_id=client_id,
            client_ids_key=self.store.keys.customer_client_ids(customer_id),
        )
        if status not in ("ok", "duplicate"):
            raise Conflict("this test run has ended: start a new test", field="conversation_id")
        return Stored(conv_id, event_id, duplicate=status == "duplicate", state=ConversationState.OPEN)

    async def record(self, cid: str, typ: EventType, data: dict[str, Any]) -> str:
        """Append a system event (call started, IVR step, ...) to the timeline; returns its id."""
        _, event_id, status = await self.store.append(cid, typ, data, now=self.clock())
        if status != "ok":
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")
        if typ == EventType.MESSAGE:  # the chat bot's
            self.metrics.message(str(data.get("author") or "system"))
        return event_id

    async def set_context(self, cid: str, values: dict[str, str]) -> None:
        if values and await self.store.set_context(cid, values, now=self.clock()) != "ok":
            raise NotFound(f"conversation {cid} does not exist", field="conversation_id")

    async def enqueue(
        self, cid: str, queue_name: str, *, skills: Skills | None = None, priority: int | None = None
    ) -> bool:
        """Hand an open conversation to routing; False if it was not open (assigned, closed), or is a test run's
        (those never reach agents). One already waiting in another queue (its chat was queued, then the customer
        called and the IVR chose) moves to ``queue_name`` keeping its place: the flow's choice is the newer one.
        ``skills`` and ``priority`` None (a fallback that only makes sure it waits somewhere): none for a new
        one, and one waiting in that queue already keeps what it asks."""
        if is_test_conversation(cid):
            log.warning("a test run's conversation is never queued (%s)", queue_name, extra={"conversation_id": cid})
            return False
        result = await self.store.enqueue(
            cid, self.queue, queue_name, now=self.clock(), skills=format_skills(skills or ()), priority=priority or 0
        )
        if result == ConversationState.QUEUED:
            result = await self._move_waiting(cid, queue_name, skills, priority)
        if result == "ok":
            log.info("queued for %s", queue_name, extra={"conversation_id": cid})
            await self._queue_changed()
        return result in ("ok", "same")

    async def _move_waiting(self, cid: str, queue_name: str, skills: Skills | None, priority: int | None) -> str:
        """A conversation waiting in another queue goes to ``queue_name`` at its place ('ok'); waiting in that queue
        already, it asks what the flow says now of an agent (skills, priority: a chat queued for billing, then a call
        the IVR sent to billing for a Spanish speaker, first) and keeps its place and its wait ('ok'), or stays as it
        is when that is the same ('same'); anything else (assigned meanwhile) is the store's answer."""
        conv = await self.store.conversation(cid) or {}
        current = conv.get("queue", "")
        asks = (conv.get("skills", ""), int(conv.get("priority") or 0))
        wants = (format_skills(skills or ()), priority or 0)
        if current == queue_name and (skills is None and priority is None or asks == wants):
            return "same"
        return await QueueStore(self.store).move(
            cid,
            self.queue,
            from_queue=current,
            to_queue=queue_name,
            skills=wants[0],
            priority=wants[1],
            now=self.clock(),
            reason="flow",
        )

    async def close_without_agent(self, cid: str, disposition: str) -> None:
        """A bot flow ended the conversation (no agent was ever assigned). One waiting for a callback the bot
        booked stays open: the callback is delivered in it."""
        conv = await self.store.conversation(cid)
        if conv is None or conv.get("state") == ConversationState.CLOSED:
            return
        if self.callbacks is not None and await self.callbacks.of_conversation(cid) is not None:
            return
        now = self.clock()
        facts = await self._close_facts(cid, now)
        # the routing queue, where a waiting one is (not its queue's name: a waiting chat stayed there, closed)
        await self.store.close(cid, self.queue, "", disposition, now=now, facts=facts)

    async def queue_status(self, queue_name: str) -> QueueStatus:
        """How ``queue_name`` stands now: agents free to take a conversation, conversations waiting for it,
        and the expected wait for one more (None without handle-time history)."""
        now = self.clock()
        loads = await self.router.agent_loads(now)
        available = sum(1 for a in loads if a.eligible)
        # who takes the queue's callers one after another: room for one more, or a call that ends (not an agent full
        # of chats with no call: gateway/contact/wait_estimate.py ``takes_callers``)
        online = sum(
            1 for a in loads if a.online and a.status == AgentStatus.AVAILABLE and (a.active < a.capacity or a.busy)
        )
        names = await self.store.conversation_fields(await self.router.waiting(1000), "queue")
        waiting = sum(1 for (name,) in names if name == queue_name)
        wait_ms = estimate_wait_ms(waiting + 1, online, await WaitEstimates(self.store).handle_times())
        if available:
            wait_ms = 0
        return QueueStatus(available, waiting, None if wait_ms is None else round(wait_ms / 1000))

    async def queue_hours(self) -> dict[str, Schedule | None]:
        """Each queue's opening hours, for flows' ``hours: {queue: NAME}`` nodes (read when a flow starts)."""
        return await self.queues.hours() if self.queues is not None else {}

    async def _queue_changed(self) -> None:
        self.router.kick()
        await self.store.publish(self.store.keys.queue_channel, bus.QueueChanged())


def _rating(conv: dict[str, str]) -> dict[str, Any] | None:
    """The customer's rating as the conversation's hash keeps it (None before one)."""
    if not conv.get("rated_at"):
        return None
    return {
        "score": int(conv.get("rating") or 0),
        "comment": conv.get("rating_comment", ""),
        "rated_at": int(conv["rated_at"]),
    }


def customer_visible(typ: str, *, steps: bool = False) -> bool:
    """Whether a customer sees events of type ``typ`` (``steps``: a test run's console also sees ``ivr`` steps)."""
    return typ in CUSTOMER_VISIBLE or (steps and typ == EventType.IVR)


# whom an event names (a supervisor who moved a chat too), what reports read
NOT_FOR_CUSTOMERS = frozenset({"agent_id", "transferred_from", "transferred_by", "transferred_by_name", *REPORT_FACTS})


def customer_view(event: dict[str, Any]) -> dict[str, Any]:
    """What a customer may see of an event: no agent ids, no report facts, no internal context."""
    return {
        k: v
        for k, v in event.items()
        if k not in NOT_FOR_CUSTOMERS and not (k == "context" and event["type"] == EventType.OPENED)
    }
