"""What the edge's handlers reach: the node's services, typed, kept in the aiohttp app (built by ``gateway.runtime``)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from aiohttp import web

from gateway.calls.agent_calls import AgentCalls
from gateway.calls.commands import CallCommands
from gateway.calls.hold_music import HoldMusic
from gateway.calls.manager import CallManager
from gateway.calls.takeover import NodeWatch
from gateway.config import Settings
from gateway.contact.agents import AgentDirectory
from gateway.contact.attachments import Attachments
from gateway.contact.audit import AuditLog
from gateway.contact.away_reasons import AwayReasons
from gateway.contact.callbacks import Callbacks
from gateway.contact.canned import CannedResponses
from gateway.contact.chat_supervision import ChatSupervision
from gateway.contact.code_lists import CodeWatch
from gateway.contact.conversations import Conversations
from gateway.contact.customer_presence import CustomerPresence
from gateway.contact.dispositions import Dispositions
from gateway.contact.handover import Handover
from gateway.contact.help_requests import HelpRequests
from gateway.contact.history import ConversationHistory
from gateway.contact.limits import Limits
from gateway.contact.presence import Presence
from gateway.contact.queue_board import QueueBoard
from gateway.contact.queues import QueueSettings
from gateway.contact.routing import Router
from gateway.contact.widget_settings import WidgetConfig
from gateway.flows.chat_bot import ChatBots
from gateway.flows.live import LiveFlows
from gateway.flows.speech import SpeechRecognition
from gateway.flows.versions import FlowVersions
from gateway.ops.agent_time import AgentTime
from gateway.ops.erasure import Erasure
from gateway.ops.metrics import NodeMetrics
from gateway.ops.retention import Retention
from gateway.ops.rollups import Reports, RollupConsumer
from gateway.ops.wallboard import Wallboard
from gateway.ops.webhook_delivery import WebhookDelivery
from gateway.ops.webhooks import Webhooks
from gateway.ops.worker_metrics import WorkerMetrics
from gateway.store.bus import Bus
from gateway.store.embedded_redis import EmbeddedRedis
from gateway.store.store import Keys, Store
from gateway.wire.agent_admin import AgentAdmin
from gateway.wire.login_limits import LoginLimits
from gateway.wire.sessions import LoginSessions
from gateway.wire.site_tokens import SiteKeys
from gateway.wire.tokens import TokenSigner


@dataclass
class Services:
    settings: Settings
    keys: Keys
    store: Store
    bus: Bus
    router: Router
    presence: Presence
    customer_presence: CustomerPresence  # which customers have a widget open (gateway/contact/customer_presence.py)
    conversations: Conversations
    handover: Handover  # chats handed to a colleague or a queue, and those of an agent who left (contact/handover.py)
    supervision: ChatSupervision  # supervisors coach, join and move agents' chats (contact/chat_supervision.py)
    help: HelpRequests  # agents ask supervisors for help with a chat (contact/help_requests.py)
    signer: TokenSigner
    directory: AgentDirectory  # the agents, in Redis, with this node's copy (gateway/contact/agents.py)
    queue_board: QueueBoard
    flows: LiveFlows  # the published version of each flow (gateway/flows/live.py)
    flow_versions: FlowVersions  # save, publish, diff, replay (gateway/flows/versions.py)
    audit: AuditLog  # who changed what (gateway/contact/audit.py); every admin write records into it
    wallboard: Wallboard  # the supervisors' live view of every node (gateway/ops/wallboard.py)
    calls: CallManager
    bots: ChatBots
    speech: SpeechRecognition
    agent_calls: AgentCalls
    call_commands: CallCommands
    callbacks: Callbacks
    http: aiohttp.ClientSession
    limits: Limits  # abuse limits (gateway/contact/limits.py)
    retention: Retention  # deletes old closed conversations (gateway/ops/retention.py)
    erasure: Erasure  # a customer's data exported or erased on request (gateway/ops/erasure.py)
    sessions: LoginSessions  # agents' revocable login sessions (gateway/wire/sessions.py)
    login_limits: LoginLimits  # failed-login backoff, counted before the password check (gateway/wire/login_limits.py)
    agent_admin: (
        AgentAdmin  # the directory's writes with their sessions and audit entries (gateway/wire/agent_admin.py)
    )
    history: ConversationHistory  # the desk's history and search over conversations (gateway/contact/history.py)
    canned: CannedResponses  # shared and personal canned responses (gateway/contact/canned.py)
    attachments: Attachments  # files sent in conversations (gateway/contact/attachments.py)
    metrics: NodeMetrics  # what /metrics serves; .recorder is what the services count into (gateway/ops/metrics.py)
    reports: Reports  # historical reports and path analytics from the rollups (gateway/ops/rollups.py)
    rollups: RollupConsumer  # this node's consumer of the event log: counters as events happen
    agent_time: AgentTime  # agents' states sampled into the report counters (gateway/ops/agent_time.py)
    webhooks: Webhooks  # event webhook subscriptions and their delivery logs (gateway/ops/webhooks.py)
    webhook_delivery: WebhookDelivery  # posts the event log to them (gateway/ops/webhook_delivery.py)
    queues: QueueSettings  # queues as objects: skills, priority, hours, maximum wait (gateway/contact/queues.py)
    away_reasons: AwayReasons  # why agents are away, the center's list (gateway/contact/away_reasons.py)
    dispositions: Dispositions  # what agents close conversations with, the center's list (contact/dispositions.py)
    code_watch: CodeWatch  # an admin saved a code list on some node: open desks are told (contact/code_lists.py)
    music: HoldMusic  # music on hold: a queue's file of the flows directory (gateway/calls/hold_music.py)
    widget: WidgetConfig  # the widget's title, colours, greeting, hours queue (gateway/contact/widget_settings.py)
    node_watch: NodeWatch | None = None  # this node's heartbeat, and the takeover of dead nodes (calls/takeover.py)
    worker_metrics: WorkerMetrics | None = (
        None  # a worker's /metrics with its siblings' (gateway/ops/worker_metrics.py)
    )
    embedded: EmbeddedRedis | None = None
    demo_password: str | None = None  # the first start's 'demo' admin's password (the terminal banner shows it)
    site_keys: SiteKeys = field(default_factory=lambda: SiteKeys(()))  # verify sites' customer tokens
    #: What stops the node: every service started, stopped in reverse order (gateway/runtime.py).
    stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)


SERVICES = web.AppKey("services", Services)


class OpenSocket(Protocol):
    """An open customer or agent socket (gateway/wire/connection.py), as shutdown sees it."""

    ws: web.WebSocketResponse

    async def sent(self) -> None:
        """Wait until everything queued for the client so far has been sent."""


SOCKETS: web.AppKey[set[OpenSocket]] = web.AppKey("sockets")  # open sockets, closed on shutdown
