"""A text session with a flow: type what the caller would press or say, see what the IVR does.

Input lines::

    1   #123#   4711#     keys (on chat: typed text)
    billing please        words (voice: a speech result with confidence 1; chat: typed text)
    /speech 0.4 billing   a speech result with a given confidence
    /timeout              the listen window timed out (no input)
    /webhook 200 {"vars": {"tier": "gold"}}    the webhook answered (JSON body optional)
    /webhook 500   /webhook timeout   /webhook error connection refused
    /queue 0 4 300        the queue status: agents available, waiting, expected wait (s, or ? for unknown)
    /hangup               the caller hangs up          /vars   show the context
    /help                 this list                    /quit   stop

Prompts are acknowledged at once (see :class:`ivr.harness.Session`).
Nothing is sent over the network: webhook answers are typed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TextIO

from .actions import (
    Action,
    CallWebhook,
    CheckQueue,
    Done,
    Enqueue,
    Hangup,
    Listen,
    ListenMode,
    Play,
    RequestCallback,
    Say,
    SetVars,
    Step,
    StepKind,
    StopListening,
    StopPrompts,
)
from .events import Digits, Disconnected, Event, NoInput, QueueStatus, Speech, Text, WebhookResult
from .harness import DEFAULT_NOW, Session
from .hours import Schedule
from .model import Channel, Flow

HELP = """\
keys: 1  #123#  4711#       words: billing please       /speech 0.4 billing
/timeout   /webhook 200 {"vars": {...}, "next": "node"}   /webhook 500   /webhook timeout
/queue 0 4 300   (agents available, waiting, expected wait in seconds or ?)
/hangup   /vars   /help   /quit"""

_KEYS = set("0123456789*#")


class InputError(ValueError):
    """A simulator line that cannot be understood."""


def parse_line(line: str, channel: Channel) -> Event | str | None:
    """An event, a command for the simulator itself ('quit', 'vars', 'help'), or None for a blank line."""
    line = line.strip()
    if not line:
        return None
    if not line.startswith("/"):
        if channel is Channel.CHAT:
            return Text(line)
        return Digits(line) if set(line) <= _KEYS else Speech(line, 1.0)
    command, _, rest = line[1:].partition(" ")
    rest = rest.strip()
    match command:
        case "quit" | "vars" | "help":
            return command
        case "timeout" | "noinput":
            return NoInput()
        case "hangup":
            return Disconnected()
        case "speech":
            confidence, _, words = rest.partition(" ")
            try:
                return Speech(words.strip(), float(confidence))
            except ValueError:
                raise InputError("usage: /speech 0.4 some words") from None
        case "webhook":
            return _parse_webhook(rest)
        case "queue":
            return _parse_queue(rest)
    raise InputError(f"unknown command /{command} (try /help)")


def _parse_queue(rest: str) -> QueueStatus:
    parts = rest.split()
    try:
        if len(parts) != 3:
            raise ValueError
        return QueueStatus(int(parts[0]), int(parts[1]), None if parts[2] == "?" else int(parts[2]))
    except ValueError:
        raise InputError("usage: /queue AGENTS_AVAILABLE WAITING WAIT_SECONDS (or ? for unknown)") from None


def _parse_webhook(rest: str) -> WebhookResult:
    head, _, body = rest.partition(" ")
    if head == "timeout":
        return WebhookResult(error="timeout")
    if head == "error":
        return WebhookResult(error=body.strip() or "error")
    try:
        status = int(head)
    except ValueError:
        raise InputError('usage: /webhook 200 {"vars": {...}} | /webhook timeout | /webhook error text') from None
    if not body.strip():
        return WebhookResult(status)
    try:
        return WebhookResult(status, json.loads(body))
    except json.JSONDecodeError:
        return WebhookResult(status, error="invalid JSON")  # what a driver reports for a garbage body


def format_action(action: Action, channel: Channel) -> str | None:
    """The line the simulator prints for an action, or None to print nothing."""
    match action:
        case Step(StepKind.ENTER, node, detail, flow):
            return f"-- {flow}#{node} ({detail})"
        case Step(StepKind.PROMPT, _, _, _) | StopListening() | SetVars():
            return None  # shown by the Say/Play lines, and by the 'set' steps
        case Step(kind, _, detail, _):
            return f"   . {kind}: {detail}"
        case Say(_, text, _, _, _, barge_in):
            who = "BOT" if channel is Channel.CHAT else "IVR says"
            return f"{who}: {text}" + ("" if barge_in else "  [no barge-in]")
        case Play(_, path, _):
            return f"IVR plays: {path.rsplit('/', 1)[-1]}"
        case StopPrompts():
            return "   (prompt interrupted)"
        case Listen():
            return "   " + _format_listen(action, channel)
        case CallWebhook(url, method, payload, timeout, _):
            return (
                f"   (webhook {method} {url}, timeout {timeout:g}s, vars {json.dumps(payload['vars'])}: "
                f"answer with /webhook 200 {{...}} or /webhook timeout)"
            )
        case Enqueue(queue, priority, skills, _, _, _):
            return f"   (queued to '{queue}', priority {priority}" + (
                f", skills {', '.join(skills)})" if skills else ")"
            )
        case CheckQueue(queue):
            return f"   (looks at queue '{queue}': answer with /queue AGENTS WAITING WAIT_SECONDS)"
        case RequestCallback(queue, due, label):
            when = "as soon as possible" if due is None else f"at {due:%Y-%m-%d %H:%M %Z}"
            return f"   (callback booked in '{queue}' {when}: {label})"
        case Hangup(reason):
            return f"   (hangs up: {reason})"
        case Done(reason):
            return f"== done: {reason}"
    return None


def _format_listen(listen: Listen, channel: Channel) -> str:
    if listen.mode is ListenMode.MENU:
        if channel is Channel.CHAT:
            return "buttons: " + " ".join(f"[{c.label}]" for c in listen.choices)
        keys = " ".join(c.key for c in listen.choices)
        if not listen.speech:
            return f"(listening: keys {keys} only: speech is off for this question)"
        words = ", ".join(listen.speech_hints[:8])
        return f"(listening: keys {keys} or words like {words})"
    if channel is Channel.CHAT:
        return f"(waiting for a number of {listen.min_digits} to {listen.max_digits} digits)"
    end = f", end with {listen.terminator}" if listen.terminator else ""
    end += "; keys only: speech is off for this question" if not listen.speech else ""
    timeout = f"{listen.no_input_timeout:g}s" if listen.no_input_timeout else "none"
    return f"(listening: {listen.min_digits} to {listen.max_digits} digits{end}; timeout {timeout})"


def simulate(
    flow: Flow,
    input_lines: Iterable[str],
    output: TextIO,
    *,
    channel: Channel | str = Channel.VOICE,
    context: Mapping[str, str] | None = None,
    flows: Mapping[str, Flow] | None = None,
    now: datetime = DEFAULT_NOW,
    echo: bool = True,
    queue_hours: Mapping[str, Schedule | None] | None = None,
) -> Done | None:
    """Run ``flow`` on the lines of ``input_lines``, writing the transcript to ``output``.

    ``echo`` repeats each input line (``> 1``), for transcripts of scripted
    input. ``queue_hours``: each queue's opening hours, for ``hours`` nodes that
    name a queue (a queue not in it is taken as open, and said so). Returns the
    final ``Done``, or None when the input ended first.
    """
    channel = Channel(channel)
    session = Session(flow, channel=channel, context=context, flows=flows, now=now, queue_hours=queue_hours)

    def show(actions: list[Action]) -> None:
        for action in actions:
            line = format_action(action, channel)
            if line is not None:
                output.write(line + "\n")

    output.write(f"flow {flow.name} (version {flow.version}) on {channel}; /help for commands\n")
    show(session.start())
    for raw in input_lines:
        if session.done is not None:
            break
        if echo and raw.strip():
            output.write(f"> {raw.strip()}\n")
        try:
            parsed = parse_line(raw, channel)
        except InputError as exc:
            output.write(f"   ! {exc}\n")
            continue
        if parsed is None:
            continue
        if parsed == "quit":
            break
        if parsed == "help":
            output.write(HELP + "\n")
        elif parsed == "vars":
            output.write("   " + json.dumps(dict(session.interpreter.context), sort_keys=True) + "\n")
        elif not isinstance(parsed, str):
            show(session.feed(parsed))
    done = session.done
    if done is None:
        output.write(
            f"== input ended while waiting for {session.interpreter.waiting} "
            f"at {session.interpreter.flow.name}#{session.interpreter.node}\n"
        )
    output.flush()
    return done
