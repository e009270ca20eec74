"""What each logged event adds to the report counters: a pure function, no I/O (the consumer in
gateway/ops/rollups.py applies it to the event log as events happen; the backfill to stored timelines).

Every event is counted in the interval its timeline entry was written (its timeline id's milliseconds, UTC): the
same time for the live consumer and for the backfill. A counter belongs to one dimension (``queue``: the
conversation's queue at that moment; ``agent``: the agent the event names or who had the conversation;
``disposition``: the close's disposition) and one key of it (the queue name, the agent id, the disposition).

The metrics, for both channels (a *call* is a conversation with a ``call_started``; a *chat* one without):

- **offered**: a conversation enters a queue: ``state`` -> ``queued`` when it is first queued (no ``reason``), by a
  callback that comes due (reason ``callback``) or when it is transferred to another queue (the event names the
  ``queue``). A call or chat put back after a missed ring or a lost agent is not offered again.
- **handled**: a chat is handled when routing assigns it to an agent (``assigned``, not a transfer between agents,
  ``voice`` false); a call when an agent answers it (``call_answered``). At most once per offer (:func:`offer_step`):
  a chat that becomes a call, or a chat's callback answered by a call, is handled once (its chat's assignment); a
  call transferred to another queue is handled there when answered again; one answered again after a missed ring
  or a lost agent is not handled twice.
  **wait** (for **ASA**, the average speed of answer): the ``wait_ms`` of those events (since it was queued).
  **service level**: the share of handled contacts whose wait was at most ``--service-level-seconds`` (the threshold
  when the event was counted).
- **abandoned** (and **abandoned wait**): a call whose caller hung up while waiting for an agent (``call_abandoned``,
  its ``wait_ms`` in its current queue); a chat closed while it still waited in the queue (by the bot, or abandoned
  when its node was lost: ``closed`` with ``queued_wait_ms`` and ``voice`` false). Only while its offer is open: a
  caller who hangs up while the chat's own agent rings, or after an agent had the call, is not counted.
- **callbacks booked / reached / unreachable**: ``callback`` events ``requested``; ``closed`` with outcome
  ``reached``; ``closed`` with outcome ``unreachable`` (its attempts used up).
- **AHT** (average handle time) of calls, per **call segment** (an agent's part of a call: a call transferred once
  is two segments, as Amazon Connect counts a transferred contact's records): **talk** and **hold** (``talk_ms``:
  from their answer, holds left out; ``hold_ms``): from ``call_ended`` for the agent on it at the end, from
  ``call_transferred`` and ``call_agent_lost`` for an agent who handed it on or dropped (in the queue the call was in
  then); **wrap-up** from ``closed`` of a conversation whose call an agent talked on (``wrap_ms``: from that call's
  end to the agent's close, the after-call work). **Call handle time** (``aht_call_ms``) is talk + hold + wrap-up
  over the segments: one divisor (``call_segments``), not three averages added up.
- **chat first response** (``first_response_ms`` of ``closed``: the customer's first message to the first agent
  message after it, credited to the agent who wrote that reply, ``first_response_agent``), **chat resolution**
  (``resolution_ms``: opened to closed) of chats an agent closed; **chat handle time** (``aht_chat_ms``) per **chat
  segment** (``chat_segments``): an agent's part of a chat, from its assignment to their close (``handle_ms`` of
  ``closed``) or to their transfer of it (``handle_ms`` of the transfer's ``assigned`` or ``state`` event).
- **transfers**: a chat an agent handed to a colleague or a queue (events with ``transfer: chat``, counted for that
  agent and the queue it was in, ``agent_queue``; one a supervisor moved, ``transferred_by``, for the queue only: the
  agent did not choose it), a call an agent transferred (``call_transferred``).
- **escalations**: a call started in a conversation where the customer had chatted (``call_started`` with
  ``escalated``).
- **IVR sessions**: calls that ran the voice flow (``call_ended`` with ``ivr``); **IVR contained**: those that ended
  without ever waiting for an agent (no ``queued``).
- **dispositions**: ``closed`` counted by its disposition (dimension ``disposition``, metric ``closed``).
- **agent time** (by agent only, not from events: sampled, gateway/ops/agent_time.py): signed-in time, the time in
  each state (idle, chats, calls, wrap-up, away) and **occupancy**, (calls + wrap-up + chats) / (those + idle).

A test run's conversation (an admin trying a flow version from the console, id ``t_...``) counts in nothing.

Path analytics per flow and day (``ivr`` steps): a **transition** ``from`` -> ``node`` on each ``enter`` step ('' is
the flow's start); an **exit** where the caller or customer hung up (``hangup`` step the interpreter writes for a
disconnect) or asked for an agent (``queue`` step), at that node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.contact.conversations import is_test_conversation
from gateway.protocol.states import EventType
from gateway.store.event_log_store import LoggedEvent

DIMENSIONS = ("queue", "agent", "disposition", "away_reason")

# raw counters (what Redis holds) -> the report's metrics (report_point)
COUNTERS = (
    "offered",
    "handled",
    "in_sl",  # handled within the service level threshold
    "wait_ms",  # sum over handled (ASA)
    "abandoned",
    "abandoned_wait_ms",
    "moved_out",  # left the queue for another while it waited (its maximum wait's overflow, a flow's new choice)
    "callbacks_booked",
    "callbacks_reached",
    "callbacks_unreachable",
    "talked",  # calls with talk / hold times
    "talk_ms",
    "hold_ms",
    "wrapped",
    "wrap_ms",
    "responded",
    "first_response_ms",
    "resolved",
    "resolution_ms",
    "chatted",  # chat segments: an agent's part of a chat (to their close or their transfer), with a handle time
    "chat_handle_ms",
    "escalations",
    "ivr_sessions",
    "ivr_contained",
    "rated",  # customers' satisfaction ratings (1-5), after the close
    "rating_sum",
    "rated_good",  # ratings of 4 or 5
    "transfers",  # chats and calls an agent handed on
    "t_call",  # agent time (gateway/ops/agent_time.py): ms signed in ringing or on a call
    "t_wrap",  # ... in after-call work
    "t_chat",  # ... available, holding a chat
    "t_idle",  # ... available with nothing to do
    "t_away",  # ... away (dimension agent; and dimension away_reason: every agent's away time with that reason)
    "closed",  # dimension disposition
)

# metrics of agents only (their time): by queue they are None
ONLY_BY_AGENT = (
    "time_signed_in_ms",
    "time_idle_ms",
    "time_chats_ms",
    "time_calls_ms",
    "time_wrap_up_ms",
    "time_away_ms",
    "occupancy",
)


METRICS = (
    "offered",
    "handled",
    "abandoned",
    "abandoned_wait_ms_avg",
    "moved_out",
    "callbacks_booked",
    "callbacks_reached",
    "callbacks_unreachable",
    "service_level",
    "asa_ms",
    "aht_talk_ms",
    "aht_hold_ms",
    "aht_wrap_ms",
    "chat_first_response_ms",
    "chat_resolution_ms",
    "aht_chat_ms",
    "aht_call_ms",
    "call_segments",
    "chat_segments",
    "transfers",
    "escalations",
    "ivr_sessions",
    "ivr_contained",
    "rated",
    "rating_avg",
    "csat",
    *ONLY_BY_AGENT,
)

CALLER_LEFT = frozenset({"the caller hung up", "the customer left"})  # the interpreter's hangup step on a disconnect


@dataclass(frozen=True, slots=True)
class Increment:
    dim: str  # queue | agent | disposition
    key: str
    counter: str  # one of COUNTERS
    amount: int = 1


@dataclass(frozen=True, slots=True)
class PathIncrement:
    flow: str
    field: str  # 't|FROM|TO' a transition, 'h|NODE' a hang-up, 'a|NODE' an agent request
    amount: int = 1


@dataclass(frozen=True, slots=True)
class Counted:
    """What one event adds: counters and path counters, in the interval of ``at_ms``."""

    at_ms: int
    increments: tuple[Increment, ...] = ()
    paths: tuple[PathIncrement, ...] = ()


def event_time(event: LoggedEvent) -> int:
    """When the event was written to its timeline (its id's milliseconds; the script's time if it has none)."""
    head = event.event_id.split("-", 1)[0]
    return int(head) if head.isdigit() else event.ts


class _Tally:
    """The increments of one event, in its queue and (when given) for an agent."""

    def __init__(self, event: LoggedEvent, sl_threshold_ms: int):
        self.event = event
        self.sl_threshold_ms = sl_threshold_ms
        self.out: list[Increment] = []
        self.paths: list[PathIncrement] = []

    def add(self, counter: str, amount: int = 1, *, agent: str = "", queue: str | None = None) -> None:
        where = self.event.queue if queue is None else queue
        if where:
            self.out.append(Increment("queue", where, counter, amount))
        if agent:
            self.out.append(Increment("agent", agent, counter, amount))

    def handled(self, wait: int, agent: str) -> None:
        self.add("handled", agent=agent)
        self.add("wait_ms", wait, agent=agent)
        if wait <= self.sl_threshold_ms:
            self.add("in_sl", agent=agent)


OFFER_EVENTS = frozenset({"assigned", "call_answered", "call_abandoned", "closed"})


def offers(typ: str, d: dict[str, Any]) -> bool:
    """Whether the event offers the conversation to a queue (``offered``): not a flow's new skills or priority for
    the queue it waits in (``from_queue`` is that queue: gateway/contact/conversations.py)."""
    if typ != "state" or d.get("state") != "queued":
        return False
    return d.get("reason") in (None, "", "callback") or ("queue" in d and d.get("from_queue") != d["queue"])


def takes_offer(typ: str, d: dict[str, Any]) -> bool:
    """Whether the event ends an open offer: handled (a chat assigned, not by a transfer nor with a call in it; a
    call answered) or abandoned (a call hung up while waiting; a chat closed while waiting)."""
    if typ == "assigned":
        return not d.get("transferred_from") and not d.get("voice")
    if typ == "closed":
        return "queued_wait_ms" in d and not d.get("voice")
    return typ in ("call_answered", "call_abandoned")


def offer_step(is_open: bool, typ: str, d: dict[str, Any]) -> tuple[bool, bool | None]:
    """(the conversation's offer after the event, what the event took: True the open offer, False none, None not an
    event that takes one). The event log has the same rule in Redis (gateway/store/lua/includes/append.lua), the
    backfill follows it here (:func:`replay`)."""
    if offers(typ, d):
        return True, None
    if typ not in OFFER_EVENTS:
        return is_open, None
    if takes_offer(typ, d):
        return False, is_open
    return (False if typ == "closed" else is_open), None


def _took(t: _Tally, legacy: bool) -> bool:
    """The event counts as handled / abandoned: it took the open offer (``legacy``: logged before offers were
    followed, the rule of then)."""
    return legacy if t.event.offer is None else t.event.offer


def _state(t: _Tally, d: dict[str, Any]) -> None:
    if offers(EventType.STATE, d):
        t.add("offered", queue=str(d.get("queue") or t.event.queue))
        # it left the queue it waited in for another: that queue's offer ends without being handled or abandoned
        # (a supervisor saw "offered 3 = handled 1 + abandoned 1" and one unaccounted for: an exploratory test)
        if d.get("from_queue") and d.get("queue") and d["from_queue"] != d["queue"]:
            t.add("moved_out", queue=str(d["from_queue"]))
    elif d.get("state") == "open" and d.get("from_queue"):  # its maximum wait sent it to a bot flow or a callback
        t.add("moved_out", queue=str(d["from_queue"]))
    if d.get("state") == "queued":
        _chat_transfer(t, d, str(d.get("agent_id") or ""))


def _assigned(t: _Tally, d: dict[str, Any]) -> None:
    if _took(t, takes_offer(EventType.ASSIGNED, d)):
        t.handled(_ms(d.get("wait_ms")), str(d.get("agent_id") or t.event.agent_id))
    _chat_transfer(t, d, str(d.get("transferred_from") or ""))


def _chat_transfer(t: _Tally, d: dict[str, Any], agent: str) -> None:
    """An agent's part of a chat ended short of its close: they handed it on (to a colleague: ``assigned``; to a
    queue: ``state``; ``transfer: chat``, a transfer) or left (``state`` back to the queue): their segment's handle
    time, in the queue it was in (gateway/contact/handover.py, ``agent_queue``)."""
    if not agent or "agent_queue" not in d:
        return
    queue = str(d.get("agent_queue") or t.event.queue)
    if d.get("transfer") == "chat":  # a supervisor's move is the queue's transfer, not one the agent chose
        t.add("transfers", agent="" if d.get("transferred_by") else agent, queue=queue)
    if "handle_ms" in d and not d.get("voice"):
        t.add("chatted", agent=agent, queue=queue)
        t.add("chat_handle_ms", _ms(d.get("handle_ms")), agent=agent, queue=queue)


def _answered(t: _Tally, d: dict[str, Any]) -> None:
    if _took(t, _ms(d.get("answer", 1)) == 1):
        t.handled(_ms(d.get("wait_ms")), str(d.get("agent_id") or t.event.agent_id))


def _abandoned(t: _Tally, d: dict[str, Any]) -> None:
    if _took(t, True):
        t.add("abandoned")
        t.add("abandoned_wait_ms", _ms(d.get("wait_ms")))


def _talked(t: _Tally, d: dict[str, Any]) -> None:
    """An agent's part of a call ended: they transferred it or their leg was lost (the call goes on)."""
    if t.event.type == EventType.CALL_TRANSFERRED and d.get("agent_id"):
        t.add("transfers", agent=str(d["agent_id"]))
    if "talk_ms" in d:
        agent = str(d.get("agent_id") or "")
        t.add("talked", agent=agent)
        t.add("talk_ms", _ms(d.get("talk_ms")), agent=agent)
        t.add("hold_ms", _ms(d.get("hold_ms")), agent=agent)


def _started(t: _Tally, d: dict[str, Any]) -> None:
    if d.get("escalated"):
        t.add("escalations", agent=t.event.agent_id)


def _ended(t: _Tally, d: dict[str, Any]) -> None:
    agent = str(d.get("agent_id") or "")
    if "talk_ms" in d:
        t.add("talked", agent=agent)
        t.add("talk_ms", _ms(d.get("talk_ms")), agent=agent)
        t.add("hold_ms", _ms(d.get("hold_ms")), agent=agent)
    if d.get("ivr"):
        t.add("ivr_sessions")
        if not d.get("queued"):
            t.add("ivr_contained")


def _callback(t: _Tally, d: dict[str, Any]) -> None:
    action, outcome = d.get("action"), d.get("outcome")
    if action == "requested":
        t.add("callbacks_booked", queue=str(d.get("queue") or t.event.queue))
    elif action == "closed" and outcome == "reached":
        t.add("callbacks_reached", agent=t.event.agent_id)
    elif action == "closed" and outcome == "unreachable":
        t.add("callbacks_unreachable", agent=t.event.agent_id)


def _closed(t: _Tally, d: dict[str, Any]) -> None:
    agent = str(d.get("agent_id") or "")
    disposition = str(d.get("disposition") or "")
    if disposition:
        t.out.append(Increment("disposition", disposition, "closed"))
    if _took(t, "queued_wait_ms" in d and not d.get("voice")):
        t.add("abandoned")
        t.add("abandoned_wait_ms", _ms(d.get("queued_wait_ms")))
    if "wrap_ms" in d and agent:
        t.add("wrapped", agent=agent)
        t.add("wrap_ms", _ms(d.get("wrap_ms")), agent=agent)
    if not agent or d.get("voice"):
        return
    if "first_response_ms" in d:  # credited to who replied (a chat transferred after it: not whoever closed it)
        replied = str(d.get("first_response_agent") or agent)
        t.add("responded", agent=replied)
        t.add("first_response_ms", _ms(d.get("first_response_ms")), agent=replied)
    for counter, n in (("resolution_ms", "resolved"), ("handle_ms", "chatted")):
        if counter in d:
            t.add(n, agent=agent)
            t.add("chat_handle_ms" if counter == "handle_ms" else counter, _ms(d.get(counter)), agent=agent)


def _rated(t: _Tally, d: dict[str, Any]) -> None:
    """The customer's rating of a closed conversation: its queue's, and the agent's who had it (a reports auditor
    found ratings stored and shown nowhere)."""
    score = _ms(d.get("score"))
    if not 1 <= score <= 5:
        return
    agent = t.event.agent_id
    t.add("rated", agent=agent)
    t.add("rating_sum", score, agent=agent)
    if score >= 4:
        t.add("rated_good", agent=agent)


def _ivr(t: _Tally, d: dict[str, Any]) -> None:
    if not d.get("flow"):
        return
    flow, kind, node = str(d["flow"]), d.get("kind"), str(d.get("node") or "")
    if kind == "enter" and "from" in d:
        t.paths.append(PathIncrement(flow, f"t|{d['from']}|{node}"))
    elif kind == "hangup" and d.get("detail") in CALLER_LEFT:
        t.paths.append(PathIncrement(flow, f"h|{node}"))
    elif kind == "queue":
        t.paths.append(PathIncrement(flow, f"a|{node}"))


_RULES: dict[str, Callable[[_Tally, dict[str, Any]], None]] = {
    EventType.STATE: _state,
    EventType.ASSIGNED: _assigned,
    EventType.CALL_ANSWERED: _answered,
    EventType.CALL_ABANDONED: _abandoned,
    EventType.CALL_STARTED: _started,
    EventType.CALL_ENDED: _ended,
    EventType.CALL_TRANSFERRED: _talked,
    EventType.CALL_AGENT_LOST: _talked,
    EventType.CALLBACK: _callback,
    EventType.CLOSED: _closed,
    EventType.IVR: _ivr,
    EventType.RATING: _rated,
}


def counted_type(typ: str) -> bool:
    """Whether events of type ``typ`` can add counters (messages, notes, typing... never do)."""
    return typ in _RULES


def count(event: LoggedEvent, *, sl_threshold_ms: int) -> Counted:
    """The counters one logged event adds (see the module's definitions); none for a test run's conversation
    (gateway/flows/test_runs.py: an admin trying a flow version is no customer)."""
    if is_test_conversation(event.cid):
        return Counted(event_time(event))
    tally = _Tally(event, sl_threshold_ms)
    rule = _RULES.get(event.type)
    if rule is not None:
        rule(tally, event.data)
    return Counted(event_time(event), tuple(tally.out), tuple(tally.paths))


def _ms(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


# ---------------------------------------------------------------- from counters to the report's metrics


# metrics counted per queue only (no agent has them: a conversation offered, abandoned or through the voice flow
# had no agent yet, a callback is booked for a queue): by agent they are None, not a 0 that reads as "none"
NOT_BY_AGENT = (
    "offered",
    "abandoned",
    "abandoned_wait_ms_avg",
    "moved_out",
    "callbacks_booked",
    "ivr_sessions",
    "ivr_contained",
)


def report_point(
    c: Mapping[str, int], *, by_disposition: bool = False, by_agent: bool = False, by_away_reason: bool = False
) -> dict[str, int | float | None]:
    """The report's metrics from summed raw counters (None where there is nothing to divide, by agent for the
    metrics no agent has: :data:`NOT_BY_AGENT`, by queue for agents' time: :data:`ONLY_BY_AGENT`; by disposition
    and by away reason their one metric)."""
    if by_disposition:
        return {"closed": int(c.get("closed", 0))}
    if by_away_reason:
        return {"time_away_ms": int(c.get("t_away", 0))}
    point = _point(c)
    return {**point, **dict.fromkeys(NOT_BY_AGENT if by_agent else ONLY_BY_AGENT)}


def _point(c: Mapping[str, int]) -> dict[str, int | float | None]:

    def avg(total: str, n: str) -> float | None:
        return round(c.get(total, 0) / c[n], 1) if c.get(n) else None

    handled = int(c.get("handled", 0))
    working = sum(c.get(n, 0) for n in ("t_call", "t_wrap", "t_chat"))
    return {
        "offered": int(c.get("offered", 0)),
        "handled": handled,
        "abandoned": int(c.get("abandoned", 0)),
        "abandoned_wait_ms_avg": avg("abandoned_wait_ms", "abandoned"),
        "moved_out": int(c.get("moved_out", 0)),
        "callbacks_booked": int(c.get("callbacks_booked", 0)),
        "callbacks_reached": int(c.get("callbacks_reached", 0)),
        "callbacks_unreachable": int(c.get("callbacks_unreachable", 0)),
        "service_level": round(c.get("in_sl", 0) / handled, 4) if handled else None,
        "asa_ms": avg("wait_ms", "handled"),
        "aht_talk_ms": avg("talk_ms", "talked"),
        "aht_hold_ms": avg("hold_ms", "talked"),
        "aht_wrap_ms": avg("wrap_ms", "wrapped"),
        "chat_first_response_ms": avg("first_response_ms", "responded"),
        "chat_resolution_ms": avg("resolution_ms", "resolved"),
        "aht_chat_ms": avg("chat_handle_ms", "chatted"),
        "aht_call_ms": round(sum(c.get(n, 0) for n in ("talk_ms", "hold_ms", "wrap_ms")) / c["talked"], 1)
        if c.get("talked")
        else None,
        "call_segments": int(c.get("talked", 0)),
        "chat_segments": int(c.get("chatted", 0)),
        "transfers": int(c.get("transfers", 0)),
        "escalations": int(c.get("escalations", 0)),
        "ivr_sessions": int(c.get("ivr_sessions", 0)),
        "ivr_contained": int(c.get("ivr_contained", 0)),
        "rated": int(c.get("rated", 0)),
        "rating_avg": round(c.get("rating_sum", 0) / c["rated"], 2) if c.get("rated") else None,
        "csat": round(c.get("rated_good", 0) / c["rated"], 4) if c.get("rated") else None,
        "time_signed_in_ms": sum(int(c.get(n, 0)) for n in ("t_call", "t_wrap", "t_chat", "t_idle", "t_away")),
        "time_idle_ms": int(c.get("t_idle", 0)),
        "time_chats_ms": int(c.get("t_chat", 0)),
        "time_calls_ms": int(c.get("t_call", 0)),
        "time_wrap_up_ms": int(c.get("t_wrap", 0)),
        "time_away_ms": int(c.get("t_away", 0)),
        "occupancy": round(working / (working + c.get("t_idle", 0)), 4) if working + c.get("t_idle", 0) else None,
    }


def summed(rows: Iterable[Mapping[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for row in rows:
        for name, value in row.items():
            total[name] = total.get(name, 0) + value
    return total


# ---------------------------------------------------------------- the backfill: timelines -> logged events


def replay(cid: str, events: list[dict[str, Any]], *, default_queue: str) -> list[LoggedEvent]:
    """A conversation's timeline (``Store.events``) as the event log had it: each event with the conversation's queue
    and agent at that moment, followed from the events themselves (a conversation starts in ``default_queue``)."""
    queue, agent, is_open = default_queue, "", False
    out: list[LoggedEvent] = []
    for e in events:
        typ = e["type"]
        data = {k: v for k, v in e.items() if k not in ("id", "type", "ts", "conversation_id")}
        is_open, took = offer_step(is_open, str(typ), data)
        if typ == EventType.STATE:
            if data.get("queue"):
                queue = str(data["queue"])
            if data.get("state") == "queued" or (data.get("state") == "open" and "agent_id" in data):
                agent = ""  # back in the queue, or taken back from its agent (a callback's end)
        elif typ == EventType.ASSIGNED:
            agent = str(data.get("agent_id") or "")
        out.append(
            LoggedEvent(
                id=str(e["id"]),
                cid=cid,
                event_id=str(e["id"]),
                type=str(typ),
                data=data,
                ts=int(e["ts"]),
                queue=queue,
                agent_id=agent,
                offer=took,
            )
        )
    return out
