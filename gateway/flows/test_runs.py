"""Test runs: any saved version of a flow (draft or live) run by an admin from the flow console, touching nothing live.

The console chats with the version through the customer socket (``hello`` with ``test_flow`` and an admin's access
token, gateway/wire/customer_socket.py) and places test calls into it the same way. A test run is a conversation of
its own, never a customer's:

- its id starts ``t_`` (:data:`~gateway.contact.conversations.TEST_PREFIX`), so what reads the event log leaves it
  out by the id alone: the report counters (gateway/ops/rollup_rules.py) and event webhooks
  (gateway/ops/webhook_delivery.py); routing refuses to queue it (``Conversations.enqueue``);
- its start context carries :data:`TEST_MARK` (``name@version``) and the admin's id, so replay leaves its runs out
  (gateway/flows/replays.py) and anyone reading its timeline sees what it was;
- it runs the named version, not the live one, with every other flow's live version for its ``goto``\\ s.

What a test run does differently from a customer's (:class:`TestHooks`): steps, variables, prompts, menus, queue looks
(``queue_status``) and flow webhooks are real (the admin tests what the version does); but a ``queue`` node puts no one
in a queue: the run says on its timeline which queue a customer would wait in (skills, priority), and ends there (a
chat run closes with disposition ``test_queued``; a test call says so, then hangs up with reason ``test_queued``). A
callback node books nothing and says what it would have booked.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from gateway.contact.conversations import Conversations
from gateway.errors import BadRequest, NotFound
from gateway.flows.replays import TEST_MARK
from gateway.flows.runner import FlowHooks
from gateway.flows.versions import FlowVersions
from gateway.protocol.client import TestChannel
from gateway.protocol.states import Author, EventType
from ivr.actions import Enqueue, RequestCallback, Step
from ivr.events import QueueStatus
from ivr.model import Flow

log = logging.getLogger(__name__)

TEST_ADMIN = "test_admin"  # the start context's key naming the admin who runs the test
TEST_QUEUED = "test_queued"  # a test chat's close disposition, and a test call's end reason, at a queue node


@dataclass(frozen=True)
class TestRun:
    """A flow version an admin runs as a test: what the chat bot or the call's IVR runs instead of the live one."""

    __test__ = False  # not a pytest test class (tests import it)

    name: str
    version: str
    flow: Flow
    admin: str  # the admin's agent id
    channel: TestChannel = TestChannel.CHAT

    @property
    def mark(self) -> str:
        return f"{self.name}@{self.version}"

    def context(self, context: Mapping[str, str]) -> dict[str, str]:
        """The test conversation's start context: the page's ``context.*`` and the test's marks."""
        return {**context, TEST_MARK: self.mark, TEST_ADMIN: self.admin}

    def flows(self, live: Mapping[str, Flow]) -> Mapping[str, Flow]:
        """What the run's ``goto``\\ s resolve in: the live flows, this one replaced by the version under test."""
        return MappingProxyType({**live, self.name: self.flow})

    def same(self, name: str, version: str) -> bool:
        return (name, version) == (self.name, self.version)


async def load_test_run(
    versions: FlowVersions, name: str, version: str, admin: str, channel: TestChannel = TestChannel.CHAT
) -> TestRun:
    """The saved version ``version`` of flow ``name``, loaded, as a test run of ``admin``; NotFound naming
    ``test_flow`` when there is no such version."""
    try:
        stored = await versions.version(name, version)
    except (NotFound, BadRequest) as exc:
        raise NotFound(f"no version to test: {exc.message}", field="test_flow") from None
    flow = await asyncio.to_thread(versions.parse, name, stored.yaml)  # it loaded when it was saved
    return TestRun(name, version, flow, admin, channel)


def would_queue(action: Enqueue, caller: str) -> str:
    """The system line a test run writes where a customer would be queued."""
    how = []
    if action.skills:
        how.append("skills " + ", ".join(action.skills))
    if action.priority:
        how.append(f"priority {action.priority}")
    detail = f" ({'; '.join(how)})" if how else ""
    return (
        f"Test run: here a {caller} would wait in queue '{action.queue}'{detail} for an agent. "
        "A test never reaches agents, so it ends here."
    )


def would_book(action: RequestCallback) -> str:
    due = action.due.isoformat(timespec="minutes") if action.due is not None else "as soon as possible"
    return (
        f"Test run: here a callback would be booked in queue '{action.queue}' ({due}, {action.attempts} attempts). "
        "Nothing was booked."
    )


class TestHooks:
    """A test run's flow hooks: the conversation's (``inner``) for steps, variables and queue looks; nothing is
    queued or booked for agents (see the module's docstring)."""

    __test__ = False

    def __init__(self, inner: FlowHooks, conversations: Conversations, cid: str, *, chat: bool):
        self.inner = inner
        self.conversations = conversations
        self.cid = cid
        self.chat = chat

    async def step(self, step: Step) -> None:
        await self.inner.step(step)

    async def set_vars(self, values: dict[str, str]) -> None:
        await self.inner.set_vars(values)

    async def queue_status(self, queue: str) -> QueueStatus:
        return await self.inner.queue_status(queue)

    async def enqueue(self, action: Enqueue) -> None:
        log.info("test run reached queue %s: not queued", action.queue, extra={"conversation_id": self.cid})
        await self._say(would_queue(action, "customer" if self.chat else "caller"))
        if self.chat:  # a test call ends after saying so (gateway/calls/manager.py)
            await self.conversations.close_without_agent(self.cid, TEST_QUEUED)

    async def request_callback(self, action: RequestCallback) -> None:
        log.info("test run asked for a callback in %s: none booked", action.queue, extra={"conversation_id": self.cid})
        await self._say(would_book(action))

    async def _say(self, text: str) -> None:
        data: dict[str, Any] = {"author": Author.SYSTEM, "text": text}
        await self.conversations.record(self.cid, EventType.MESSAGE, data)
