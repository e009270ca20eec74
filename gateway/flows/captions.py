"""Captions of a call for the caller's widget: each prompt's text as it starts playing, and what the IVR understood.

For callers who do not hear well, and for everyone in a noisy place. Captions are transient: they go to the
customer's sockets over the conversation's bus channel (``CallCaption``, then a ``caption`` frame) and are never
stored. The timeline already holds the same steps (prompt, input) for agents; a reload or a later visit shows the
chat, not the captions of a call long over.

*As it plays*: prompts are queued on the call's player one after the other, so a prompt's caption goes out when the
prompt queued before it has finished (at once when nothing was playing). A prompt cut by barge-in before it started
never gets one. *What the IVR understood* comes from the flow's ``input`` steps: the keys it took ("4271#") or the
phrase the recognizer matched ("billing"); an answer the recognizer could not match has none (the flow's no-match
prompt, captioned in turn, says so).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from gateway.contact.conversation_hooks import ConversationHooks
from gateway.contact.conversations import Conversations
from gateway.protocol.states import CaptionKind
from gateway.tasks import Tasks
from ivr.actions import Step, StepKind

log = logging.getLogger(__name__)

Send = Callable[[CaptionKind, str], Awaitable[None]]

# The interpreter's ``input`` step details (ivr/interpreter.py ``_describe_input`` and ``_gather_input``):
# "digits 12#", "digits 1234 (inter-digit timeout)", "speech 'billing' (0.91)".
_KEYS = re.compile(r"^digits ([0-9*#A-D]+)(?: \(|$)")
_SPEECH = re.compile(r"""^speech (['"])(.+)\1 \([0-9.]+\)$""")


def understood(step: Step) -> tuple[CaptionKind, str] | None:
    """The caption of a flow step: what the IVR took as the caller's answer, or None for any other step."""
    if step.kind is not StepKind.INPUT:
        return None
    keys = _KEYS.match(step.detail)
    if keys is not None:
        return CaptionKind.KEYS, keys.group(1)
    said = _SPEECH.match(step.detail)
    if said is not None:
        return CaptionKind.SAID, said.group(2)
    return None


class Captions:
    """One call's captions, sent in the order they happen (one sender task, owned by the call's ``tasks``)."""

    def __init__(self, send: Send, tasks: Tasks):
        self._send = send
        self._tasks = tasks
        self._queue: asyncio.Queue[tuple[CaptionKind, str]] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        self._last_prompt: asyncio.Future[Any] | None = None

    def prompt_queued(self, text: str, playing: asyncio.Future[Any]) -> None:
        """A prompt was queued on the player; ``playing`` resolves when it stopped playing (finished or cut)."""
        before, self._last_prompt = self._last_prompt, playing
        text = text.strip()
        if not text:
            return
        if before is None or before.done():
            if not playing.done():
                self.emit(CaptionKind.PROMPT, text)
            return

        def started(_: asyncio.Future[Any]) -> None:
            if not playing.done():  # not cut together with the one before it
                self.emit(CaptionKind.PROMPT, text)

        before.add_done_callback(started)

    def heard(self, step: Step) -> None:
        caption = understood(step)
        if caption is not None:
            self.emit(*caption)

    def emit(self, kind: CaptionKind, text: str) -> None:
        self._queue.put_nowait((kind, text))
        if self._sender is None or self._sender.done():
            self._sender = self._tasks.spawn(self._drain(), "captions")

    async def _drain(self) -> None:
        while not self._queue.empty():
            kind, text = self._queue.get_nowait()
            await self._send(kind, text)


class CaptionedHooks(ConversationHooks):
    """A call's flow hooks: the conversation's, and each answer the IVR took captioned for the caller."""

    def __init__(
        self,
        conversations: Conversations,
        cid: str,
        channel: str,
        captions: Captions,
        *,
        started_with: Mapping[str, str] | None = None,
    ):
        super().__init__(conversations, cid, channel, started_with=started_with)
        self.captions = captions

    async def step(self, step: Any) -> None:
        await super().step(step)
        self.captions.heard(step)
