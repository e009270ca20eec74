"""A flow's side effects on its conversation (the :class:`~gateway.flows.runner.FlowHooks` of a chat or a call): its steps on the
timeline, its variables in the context, its hand-off to a queue and the callbacks it books."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gateway.contact.conversations import Conversations
from gateway.contact.routing import Skills, format_skills, parse_skills
from gateway.errors import GatewayError
from gateway.protocol.states import EventType
from ivr.events import QueueStatus

log = logging.getLogger(__name__)


class ConversationHooks:
    """Where a flow's steps, variables and hand-off go: the conversation's timeline, context and queue."""

    def __init__(
        self, conversations: Conversations, cid: str, channel: str, *, started_with: Mapping[str, str] | None = None
    ):
        self.conversations = conversations
        self.cid = cid
        self.channel = channel
        self.last_node = ""  # the node entered last ('' before the first): an 'enter' step says where it came from
        self.started_with = dict(started_with) if started_with is not None else None  # the context it began with
        self.set: dict[str, str] = {}  # what this session set in the context, as it set it last
        self.handed_on = False  # it reached a queue or booked a callback: what it asked was answered

    async def step(self, step: Any) -> None:
        data = {
            "channel": self.channel,
            "kind": str(step.kind),
            "node": step.node,
            "detail": step.detail,
            "flow": step.flow,
        }
        if str(step.kind) == "enter":  # path analytics (gateway/ops/rollup_rules.py): transitions between nodes
            data["from"] = self.last_node
            self.last_node = step.node
        if step.inputs:  # what the step is the outcome of, as a replay feeds it again (ivr/replay.py)
            data["inputs"] = list(step.inputs)
        await self.conversations.record(self.cid, EventType.IVR, data)

    async def set_vars(self, values: dict[str, str]) -> None:
        await self.conversations.set_context(self.cid, values)
        self.set.update(values)

    async def forget_unfinished(self) -> None:
        """The customer left in the middle of the flow (hung up before a queue): what it set goes back to what the
        conversation knew before, so that the next session asks again instead of taking a half-given answer for
        known (a caller who pressed 1 by mistake and hung up was told "I see you're asking about billing" on every
        call after, with no way back to the menu: an exploratory test). A value changed since by someone else stays;
        one that was not there is emptied ('' counts as unknown)."""
        if self.started_with is None or self.handed_on or not self.set:
            return
        now = await self.conversations.context(self.cid)
        undo = {k: self.started_with.get(k, "") for k, v in self.set.items() if now.get(k) == v}
        undo = {k: v for k, v in undo.items() if now.get(k) != v}
        if undo:
            await self.conversations.set_context(self.cid, undo)
            log.info(
                "answers of an unfinished %s flow forgotten: %s",
                self.channel,
                ", ".join(sorted(undo)),
                extra={"conversation_id": self.cid},
            )

    async def request_callback(self, action: Any) -> None:
        self.handed_on = True
        callbacks = self.conversations.callbacks
        if callbacks is None:
            log.warning(
                "flow booked a callback but this gateway runs without callbacks", extra={"conversation_id": self.cid}
            )
            return
        queue = await self.conversations.queues.get(action.queue) if self.conversations.queues is not None else None
        explicit: frozenset[str] = getattr(action, "explicit", frozenset())
        policy = queue.callback if queue is not None else None  # the queue's, where the flow sets none itself
        try:
            await callbacks.request(
                self.cid,
                queue=action.queue,
                due=action.due,
                label=action.label,
                priority=action.priority,
                skills=format_skills(_skills_of(action, self.cid)),
                phone=action.phone,
                attempts=policy.attempts if policy and "attempts" not in explicit else action.attempts,
                retry_after=policy.spacing_seconds if policy and "retry_after" not in explicit else action.retry_after,
                expire_after=(
                    policy.expiry_hours * 3600 if policy and "expire_after" not in explicit else action.expire_after
                ),
            )
        except GatewayError as exc:
            log.warning("callback not booked: %s", exc.message, extra={"conversation_id": self.cid})

    async def queue_status(self, queue: str) -> QueueStatus:
        return await self.conversations.queue_status(queue)

    async def enqueue(self, action: Any) -> None:
        self.handed_on = True
        skills = _skills_of(action, self.cid)
        if not await self.conversations.enqueue(self.cid, action.queue, skills=skills, priority=action.priority):
            # already queued (keeps its place) or with an agent; agents answering calls come with routing v2
            log.info(
                "flow asked for queue %s; the conversation was not open",
                action.queue,
                extra={"conversation_id": self.cid},
            )


def _skills_of(action: Any, cid: str) -> Skills:
    try:
        return parse_skills(list(action.skills))
    except ValueError as exc:  # the flow loader checks skills; an older flow may still hold a bad one
        log.warning("flow skills ignored: %s", exc, extra={"conversation_id": cid})
        return ()
