"""The same flow as a chat bot: prompts become bot messages, menus become buttons, typed text answers.

With a flow answering chats (an admin's choice in the console, else ``--chat-flow``: gateway/flows/live.py), a
customer's first message opens the conversation in state ``open`` and a :class:`ChatBot` runs the flow in service
then for it until the flow hands it to routing (``queue``) or ends it; a change of the choice takes only new chats. The bot listens to
the conversation's channel on the bus, so the customer may sit on any node;
the bot runs on the node that opened the conversation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from gateway.contact.conversation_hooks import ConversationHooks
from gateway.contact.conversations import Conversations
from gateway.flows.live import Entry, LiveFlows
from gateway.flows.runner import FlowHooks, FlowRunner
from gateway.flows.test_runs import TestHooks, TestRun
from gateway.protocol.bus import EventAppended, Message
from gateway.protocol.states import Author, EventType
from gateway.store.bus import Bus
from gateway.store.store import Keys
from gateway.tasks import Tasks, cancel_and_wait
from ivr.actions import Enqueue, Listen, ListenMode, Play, RequestCallback, Say, Step, StepKind
from ivr.events import Disconnected, QueueStatus, Text
from ivr.interpreter import Interpreter
from ivr.matching import opening_pick
from ivr.model import (
    BranchNode,
    CallbackNode,
    Channel,
    Flow,
    GatherNode,
    HoursNode,
    MenuNode,
    PlayNode,
    QueueStatusNode,
    SayNode,
    SetNode,
    WebhookNode,
)

log = logging.getLogger(__name__)


class ChatChannel:
    """FlowChannel for a chat: everything is a timeline event the widget renders.

    ``opening``: the customer's first message, which opened the conversation before any question was asked. When
    the flow's first question is a menu and that message names one of its choices ("I have a question about my
    bill"), it answers the menu (``answer``) instead of the customer being asked to say it again (a newcomer's
    finding), and the menu's question is not posted either (it was, then the bot went on to the next question
    without waiting: a verifying test): the bot's messages before the first question are held until it is asked
    (or the flow queues or ends), the last of them being the menu's own; otherwise it is left for the agent."""

    def __init__(
        self,
        conversations: Conversations,
        cid: str,
        *,
        opening: str = "",
        answer: Callable[[Text], None] = lambda event: None,
    ):
        self.conversations = conversations
        self.cid = cid
        self._opening = opening
        self._answer = answer
        #: bot messages said before the first question, while ``opening`` may answer it, each with the node it was
        #: said in (the flow and node entered last: :class:`HeldUntilAsked` tells)
        self._held: list[tuple[tuple[str, str], str]] = []
        self._node: tuple[str, str] = ("", "")

    def entering(self, flow: str, node: str) -> None:
        """The flow entered ``node``: the messages said next are its own (a menu's question)."""
        self._node = (flow, node)

    async def say(self, action: Say) -> asyncio.Future[Any] | None:
        if self._opening:
            self._held.append((self._node, action.text))
        else:
            await self._post(action.text)
        return None

    async def _post(self, text: str) -> None:
        await self.conversations.record(self.cid, EventType.MESSAGE, {"author": Author.BOT, "text": text})

    async def release(self, *, but_of: tuple[str, str] | None = None) -> None:
        """Post the held messages (but those of node ``but_of``: the menu the opening message answered)."""
        held, self._held, self._opening = self._held, [], ""
        for node, text in held:
            if node != but_of:
                await self._post(text)

    async def play(self, action: Play) -> asyncio.Future[Any] | None:
        return None  # no sound in a chat

    def stop_prompts(self) -> None:
        return None

    async def prompts_done(self) -> None:
        return None

    async def listen(self, action: Listen) -> None:
        opening = self._opening  # the first question only
        picked = opening_pick(action.choices, opening) if opening and action.mode is ListenMode.MENU else None
        await self.release(but_of=self._node if picked is not None else None)
        if picked is not None:
            self._answer(Text(picked))
            return
        if action.choices:
            await self.conversations.record(
                self.cid,
                EventType.CHOICES,
                {"listen_id": action.listen_id, "choices": [{"key": c.key, "label": c.label} for c in action.choices]},
            )

    async def stop_listening(self, listen_id: str) -> None:
        return None

    async def enqueued(self, action: Enqueue) -> None:
        return None  # (held messages went out before the conversation was queued: HeldUntilAsked)

    async def hangup(self, reason: str) -> None:
        await self.release()
        await self.conversations.close_without_agent(self.cid, f"bot:{reason}")


class HeldUntilAsked:
    """The flow hooks of a chat whose first messages wait for its first question (``ChatChannel``): tells the
    channel which node says what, and posts what it holds before the conversation is queued (a menu skipped for an
    answer already known went on to a queue with the greeting still held: a review)."""

    def __init__(self, inner: FlowHooks, channel: ChatChannel):
        self.inner = inner
        self.channel = channel

    async def step(self, step: Step) -> None:
        if step.kind is StepKind.ENTER:
            self.channel.entering(step.flow, step.node)
        await self.inner.step(step)

    async def set_vars(self, values: dict[str, str]) -> None:
        await self.inner.set_vars(values)

    async def enqueue(self, action: Enqueue) -> None:
        await self.channel.release()
        await self.inner.enqueue(action)

    async def request_callback(self, action: RequestCallback) -> None:
        await self.channel.release()
        await self.inner.request_callback(action)

    async def queue_status(self, queue: str) -> QueueStatus:
        return await self.inner.queue_status(queue)


#: nodes a chat passes through before its first question without ending or leaving the bot
_ON_THE_WAY = (SayNode, PlayNode, SetNode, BranchNode, HoursNode, WebhookNode, QueueStatusNode)


def asks_first(flow: Flow) -> bool:
    """Whether every path from the start asks a question (a menu or a gather) before it queues, books, ends or goes
    to another flow: only then may the bot's first messages wait for the first question (``ChatChannel``'s opening
    answer), or a flow that queues at once would post its greeting after the agent's arrival."""
    seen: set[str] = set()
    todo = [flow.start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        node = flow.nodes.get(name)
        if isinstance(node, CallbackNode) or not isinstance(node, (MenuNode, GatherNode, *_ON_THE_WAY)):
            return False
        if isinstance(node, _ON_THE_WAY):  # (a question skipped for a known answer: HeldUntilAsked posts them)
            todo.extend(target for _, target in node.targets())
    return True


class ChatBot:
    def __init__(self, cid: str, runner: FlowRunner, bus: Bus, keys: Keys):
        self.cid = cid
        self.runner = runner
        self.bus = bus
        self.channel = keys.conv_channel(cid)

    def on_bus(self, channel: str, message: Message) -> None:
        match message:
            case EventAppended(type=EventType.MESSAGE, data={"author": Author.CUSTOMER}):
                self.runner.post(Text(message.data["text"]))
            case EventAppended(type=EventType.CLOSED):
                self.runner.post(Disconnected())

    async def run(self) -> str:
        await self.bus.subscribe(self.channel, self.on_bus)
        try:
            return await self.runner.run()
        finally:
            await self.bus.unsubscribe(self.channel, self.on_bus)
            if isinstance(self.runner.channel, ChatChannel):  # a flow that ended (or failed) before asking
                await self.runner.channel.release()


class ChatBots:
    """The bots running on this node, one per conversation in its flow."""

    def __init__(
        self,
        flows: LiveFlows,
        conversations: Conversations,
        bus: Bus,
        keys: Keys,
        http: aiohttp.ClientSession,
    ):
        self.flows = flows
        self.conversations = conversations
        self.bus = bus
        self.keys = keys
        self.http = http
        self.bots: dict[str, ChatBot] = {}
        self._tasks = Tasks("chatbot", log)  # one per bot, named chatbot-<conversation id>
        self._runs: dict[str, asyncio.Task[None]] = {}  # each bot's task, by conversation (stop one)

    @property
    def flow_name(self) -> str | None:
        """The flow new chats start in now."""
        return self.flows.answering(Entry.CHATS)

    async def greet(self, cid: str, opening: str = "") -> None:
        """Run the chat flow for a conversation just opened for it (by the message ``opening``: it may answer the
        flow's first menu); when none is in service any more (it was opened as the choice changed), the
        conversation goes to the agents instead of waiting for nobody."""
        if not await self.start(cid, opening=opening) and cid not in self.bots:
            log.warning("no chat flow in service: the conversation goes to the agents", extra={"conversation_id": cid})
            await self.conversations.enqueue(cid, self.conversations.queue)

    async def start(
        self, cid: str, flow_name: str | None = None, test: TestRun | None = None, *, opening: str = ""
    ) -> bool:
        """Run the chat flow (or ``flow_name``) for an open conversation (just opened, or taken out of its queue
        by the queue's maximum wait); False if one runs already or there is no such flow. ``test``: the version of
        an admin's test run instead (gateway/flows/test_runs.py)."""
        name = flow_name or self.flow_name or ""
        if cid in self.bots or (test is None and (not name or name not in self.flows)):
            return False
        flow = test.flow if test is not None else self.flows.get(name)
        flows = test.flows(self.flows.snapshot()) if test is not None else self.flows.snapshot()
        context = await self.conversations.context(cid)
        interp = Interpreter(
            flow,
            context,
            channel=Channel.CHAT,
            flows=flows,
            conversation_id=cid,
            queue_hours=await self.conversations.queue_hours(),
        )
        hooks: FlowHooks = ConversationHooks(self.conversations, cid, "chat")
        if test is not None:
            hooks = TestHooks(hooks, self.conversations, cid, chat=True)
        opening = opening if asks_first(flow) else ""
        channel = ChatChannel(self.conversations, cid, opening=opening, answer=lambda event: runner.post(event))
        if opening:
            hooks = HeldUntilAsked(hooks, channel)
        runner = FlowRunner(interp, channel, hooks, self.http, metrics=self.conversations.metrics)
        bot = ChatBot(cid, runner, self.bus, self.keys)
        self.bots[cid] = bot
        self._runs[cid] = self._tasks.spawn(self._run(bot), cid)
        log.info(
            "chat bot started with flow %s (version %s%s)",
            flow.name,
            flow.version,
            ", a test run" if test is not None else "",
            extra={"conversation_id": cid},
        )
        return True

    async def stop(self, cid: str) -> None:
        """Stop the bot of ``cid`` where it is (a test call takes over the test run's conversation)."""
        await cancel_and_wait(self._runs.get(cid))

    async def _run(self, bot: ChatBot) -> None:
        try:
            reason = await bot.run()
            log.info("chat bot finished: %s", reason, extra={"conversation_id": bot.cid})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("chat bot failed; handing the conversation to routing", extra={"conversation_id": bot.cid})
            await self.conversations.enqueue(bot.cid, "default")
        finally:
            self.bots.pop(bot.cid, None)
            self._runs.pop(bot.cid, None)

    async def close_all(self) -> None:
        await self._tasks.close()
