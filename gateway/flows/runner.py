"""Runs an IVR / bot flow for one conversation: executes the interpreter's actions on a channel.

The interpreter (``ivr``) is a pure state machine; this driver owns everything
with time and I/O in it: the no-input and inter-digit timers, prompt
completion, webhook requests (:mod:`gateway.flows.webhooks`), and writing each step,
variable and hand-off to the conversation. The channel (a voice call, or a
chat) only knows how to present prompts and listen windows; see
:class:`FlowChannel`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import aiohttp

from gateway.flows.webhooks import call_webhook
from gateway.metrics import Metrics
from gateway.tasks import Tasks
from ivr.actions import (
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
    StopListening,
    StopPrompts,
)
from ivr.events import Digits, Disconnected, Event, NoInput, PromptFinished, QueueStatus
from ivr.interpreter import Interpreter

log = logging.getLogger(__name__)


class FlowChannel(Protocol):
    """What a channel does for a flow. Voice and chat implement it."""

    async def say(self, action: Say) -> asyncio.Future[Any] | None:
        """Present a prompt; voice returns a future that resolves when it stopped playing."""

    async def play(self, action: Play) -> asyncio.Future[Any] | None: ...

    def stop_prompts(self) -> None: ...

    async def prompts_done(self) -> None:
        """Return when every prompt queued so far has finished (chat: at once)."""

    async def listen(self, action: Listen) -> None: ...

    async def stop_listening(self, listen_id: str) -> None: ...

    async def enqueued(self, action: Enqueue) -> None: ...

    async def hangup(self, reason: str) -> None: ...


class FlowHooks(Protocol):
    """Where the flow's results go: the conversation."""

    async def step(self, step: Step) -> None: ...

    async def set_vars(self, values: dict[str, str]) -> None: ...

    async def enqueue(self, action: Enqueue) -> None: ...

    async def request_callback(self, action: RequestCallback) -> None: ...

    async def queue_status(self, queue: str) -> QueueStatus: ...


class FlowRunner:
    def __init__(
        self,
        interpreter: Interpreter,
        channel: FlowChannel,
        hooks: FlowHooks,
        http: aiohttp.ClientSession,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: Metrics | None = None,
    ):
        self.metrics = metrics  # webhook times and failures (gateway/metrics.py; None: not counted)
        self.interp = interpreter
        self.channel = channel
        self.hooks = hooks
        self.http = http
        self.clock = clock
        self.events: asyncio.Queue[Event] = asyncio.Queue()
        self.reason = ""
        self._listen: Listen | None = None
        self._timer: asyncio.Task[None] | None = None
        self._tasks = Tasks("flow", log)  # webhook calls, queue checks, no-input timers; a failure is logged

    # ---------------------------------------------------------------- input from the channel

    def post(self, event: Event) -> None:
        self.events.put_nowait(event)

    def listening_for_digits(self) -> bool:
        return self._listen is not None

    def input_started(self) -> None:
        """The caller started answering (speech began): no no-input timeout while they speak."""
        self._stop_timer()

    def rearm_no_input(self) -> None:
        """The channel listens again in the same window (an answer was ignored): restart the no-input timer."""
        if self._listen is not None:
            self._start_timer(self._listen.no_input_timeout, after_prompts=True)

    # ---------------------------------------------------------------- the loop

    async def run(self) -> str:
        """Run the flow to its end; returns why it ended (queued, hangup reason, caller gone, ...)."""
        try:
            await self._execute(self.interp.start(self.clock()))
            while not self.interp.done:
                event = await self.events.get()
                if isinstance(event, Digits):
                    self._restart_timer_after_digit()
                elif (
                    isinstance(event, NoInput)
                    and self._listen is not None
                    and event.listen_id not in (None, self._listen.listen_id)
                ):
                    continue  # a late timer of a closed window
                await self._execute(self.interp.handle(event, self.clock()))
                if isinstance(event, Disconnected) and not self.reason:
                    self.reason = "caller_gone"
        finally:
            await self._tasks.close()
        return self.reason or "done"

    async def _execute(self, actions: list[Action]) -> None:
        for action in actions:
            match action:
                case Step():
                    await self.hooks.step(action)
                case Say():
                    self._on_finished(action.prompt_id, await self.channel.say(action))
                case Play():
                    self._on_finished(action.prompt_id, await self.channel.play(action))
                case StopPrompts():
                    self.channel.stop_prompts()
                case Listen():
                    self._listen = action
                    await self.channel.listen(action)
                    self._start_timer(action.no_input_timeout, after_prompts=True)
                case StopListening():
                    if self._listen is not None and self._listen.listen_id == action.listen_id:
                        self._listen = None
                        self._stop_timer()
                    await self.channel.stop_listening(action.listen_id)
                case CallWebhook():
                    self._tasks.spawn(self._webhook(action), "webhook")
                case CheckQueue():
                    self._tasks.spawn(self._queue_status(action.queue), "queue-status")
                case RequestCallback():
                    await self.hooks.request_callback(action)
                case SetVars():
                    await self.hooks.set_vars(dict(action.values))
                case Enqueue():
                    await self.hooks.enqueue(action)
                    await self.channel.enqueued(action)
                    self.reason = "queued"
                case Hangup():
                    self.reason = action.reason
                    await self.channel.hangup(action.reason)
                case Done():
                    self.reason = self.reason or action.reason

    def _on_finished(self, prompt_id: str, done: asyncio.Future[Any] | None) -> None:
        if done is None:
            return
        done.add_done_callback(lambda _f: self.post(PromptFinished(prompt_id)))

    # ---------------------------------------------------------------- timers

    def _start_timer(self, seconds: float | None, *, after_prompts: bool) -> None:
        self._stop_timer()
        if seconds is None or self._listen is None:
            return
        listen_id = self._listen.listen_id

        async def timer() -> None:
            if after_prompts:
                await self.channel.prompts_done()
            await asyncio.sleep(seconds)
            self.post(NoInput(listen_id))

        self._timer = self._tasks.spawn(timer(), "no-input")

    def _restart_timer_after_digit(self) -> None:
        listen = self._listen
        if listen is None:
            return
        if listen.mode is ListenMode.DIGITS and listen.max_digits > 1:
            self._start_timer(listen.inter_digit_timeout or listen.no_input_timeout, after_prompts=False)
        else:
            self._stop_timer()

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ---------------------------------------------------------------- webhooks

    async def _webhook(self, action: CallWebhook) -> None:
        self.post(await call_webhook(self.http, action, self.metrics))

    async def _queue_status(self, queue: str) -> None:
        self.post(await self.hooks.queue_status(queue))
