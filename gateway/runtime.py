"""The shared objects of one gateway node, built in dependency order, started and stopped in order.

The result, :class:`~gateway.wire.services.Services`, lives in the aiohttp app under
``SERVICES``; handlers get it from there, never from module globals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import date
from pathlib import Path

import redis.asyncio as aioredis

from gateway.calls.admission import Admission
from gateway.calls.agent_calls import AgentCalls
from gateway.calls.anchors import CallAnchors
from gateway.calls.commands import CallCommands
from gateway.calls.hold_music import HoldMusic
from gateway.calls.legs import AgentLegs
from gateway.calls.manager import CallConfig, CallManager, LiveCalls
from gateway.calls.takeover import NODE_LOST, NodeWatch, Takeover
from gateway.calls.transcripts import Transcripts
from gateway.config import Settings
from gateway.contact.absent_agents import AbsentAgents
from gateway.contact.agents import AgentDirectory
from gateway.contact.agents_file import load_agents
from gateway.contact.attachment_files import LocalAttachmentFiles
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
from gateway.contact.gone_customers import GoneCustomers
from gateway.contact.handover import Handover
from gateway.contact.help_requests import HelpRequests
from gateway.contact.history import ConversationHistory
from gateway.contact.limits import LimitConfig, Limits
from gateway.contact.max_wait import MaxWait
from gateway.contact.presence import Presence
from gateway.contact.queue_board import QueueBoard
from gateway.contact.queues import QueueSettings
from gateway.contact.routing import DEFAULT_QUEUE, Router, Skills, most_of, now_ms, parse_skills
from gateway.contact.wait_estimate import WaitEstimates
from gateway.contact.widget_settings import WidgetConfig
from gateway.data_dir import prepare_data_dir, warn_if_readable
from gateway.errors import ConfigError
from gateway.flows.chat_bot import ChatBots
from gateway.flows.live import Entry, LiveFlows
from gateway.flows.speech import SpeechRecognition
from gateway.flows.versions import FlowVersions
from gateway.flows.webhooks import webhook_session
from gateway.metrics import Metrics
from gateway.ops.agent_time import AgentTime
from gateway.ops.erasure import Erasure
from gateway.ops.metrics import NodeMetrics
from gateway.ops.retention import Retention
from gateway.ops.rollups import Reports, RollupConsumer, backfill
from gateway.ops.wallboard import Wallboard, thresholds_from
from gateway.ops.webhook_delivery import WebhookDelivery
from gateway.ops.webhooks import Webhooks
from gateway.ops.worker_metrics import WorkerMetrics
from gateway.protocol.bus import CallCaption, CallUpdate
from gateway.rtc_setup import apply_rtc_settings, ice_config
from gateway.store import connect as redis_connect
from gateway.store.bus import Bus
from gateway.store.embedded_redis import EmbeddedRedis
from gateway.store.event_log_store import EventLogStore
from gateway.store.flow_store import FlowStore
from gateway.store.rollup_store import RollupStore
from gateway.store.store import Keys, Store, StoreError
from gateway.tasks import cancel_and_wait
from gateway.wire.agent_admin import AgentAdmin
from gateway.wire.login_limits import LoginLimits
from gateway.wire.services import Services
from gateway.wire.sessions import LoginSessions
from gateway.wire.signing_secret import signing_secrets
from gateway.wire.site_tokens import SiteKeys
from gateway.wire.tokens import TokenSigner
from ivr.model import Flow, QueueNode
from ivr.registry import FlowRegistry
from media.asr import AsrError
from media.breaker import CircuitBreaker
from media.opus import OpusPrompts
from media.tts import Synthesizer
from media.wyoming_tts import WyomingTts

log = logging.getLogger(__name__)

FLOW_RELOAD_SECONDS = 3.0


def shipped_flows_dir() -> Path:
    import ivr

    return Path(ivr.__file__).resolve().parent / "flows"


async def _shared_secret(store: Store, settings: Settings, *, embedded: bool) -> list[bytes]:
    """The token secrets, the signing one first: ``--secret`` ("new,old" while rotating), else
    DATA_DIR/secret.key (0600); never a plain Redis value (see gateway/wire/signing_secret.py)."""
    return await signing_secrets(store, settings.secret, settings.data_dir, embedded=embedded)


def first_run(settings: Settings) -> None:
    """The data directory made private (tightened if an older version left it wider); idempotent. An agents file
    given by name must be there and load (a typo in its path made a demo admin nobody asked for; a file that is not
    UTF-8 crash-looped a worker: an operator's findings); ConfigError (status 2) otherwise."""
    try:
        prepare_data_dir(settings.data_dir)
    except OSError as exc:  # a file of that name, no permission
        raise ConfigError(f"--data-dir {settings.data_dir}: {exc.strerror or exc}", field="data_dir") from None
    if settings.agents_file is not None:
        load_agents(settings.agents_file)  # ConfigError naming the file and what is wrong
    warn_if_readable(settings.agents_path)  # password hashes (an agents file to import)


def cli_command() -> str:
    """How a shell runs the command line: its name when it is on PATH, else its path beside this interpreter
    (./bin/gateway runs .venv/bin/contact-gateway, which no PATH names: a user test pasted the banner's command and
    got "command not found")."""
    beside = Path(sys.executable).parent / "contact-gateway"
    if shutil.which("contact-gateway") is not None or not beside.is_file():
        return "contact-gateway"
    return str(beside)


def change_demo_password_command(settings: Settings) -> str:
    """The command that changes the demo's password in the store this node uses (the log and banner say it)."""
    cli = cli_command()
    if settings.redis_sentinel:
        return f"{cli} agents passwd demo (with this node's CG_REDIS_SENTINEL and CG_REDIS_MASTER)"
    if settings.redis_url:
        return f"{cli} agents passwd demo (with this node's REDIS_URL)"
    return f"{cli} agents passwd demo --data-dir {settings.data_dir.resolve()}"


def skills_needed(flows: Iterable[Flow], queue_skills: Iterable[Skills]) -> Skills:
    """The skills the flows' queue nodes and the queues ask of an agent, each at its highest level."""
    from_flows: list[Skills] = []
    for flow in flows:
        for node in flow.nodes.values():
            if isinstance(node, QueueNode) and node.skills:
                try:
                    from_flows.append(parse_skills(list(node.skills)))
                except ValueError:  # the loader checks skills: a template or an older flow's bad one
                    continue
    return most_of([*from_flows, *queue_skills])


async def _seed_agents(
    admin: AgentAdmin, settings: Settings, flows: Iterable[Flow], queues: QueueSettings
) -> str | None:
    """An empty directory: the agents file's agents (the way earlier versions kept them), else a 'demo' admin
    whose password is returned (and logged). The demo admin has every skill ``flows`` (those in service and the
    flow directory's files: with several workers, the one that seeds may not have seen the others' imports yet, and
    its demo had no skills at all) and the queues require, so that every path of the shipped flows reaches them (an
    exploratory test's billing calls never did)."""
    skills = skills_needed(flows, [q.required_skills for q in await queues.all()])
    what, count, password = await admin.seed(settings.agents_path, demo_skills=skills)
    if what == "imported":
        log.warning(
            "imported %d agents from %s into the store (the store is where agents live now: the file is not read "
            "again; manage agents in /admin or with `contact-gateway agents`, export with `agents export`)",
            count,
            settings.agents_path,
        )
    elif what == "demo":
        log.warning(
            "created agent 'demo' (roles agent, supervisor, admin), password '%s' (change it: %s)",
            password,
            change_demo_password_command(settings),
        )
    return password


async def start(settings: Settings, *, clock: Callable[[], int] | None = None, worker: int | None = None) -> Services:
    """Build the node's services in dependency order and start them; every service started is stopped by
    :func:`stop` in reverse order, and at once if a later one fails to start. ``clock`` (ms since the epoch): the
    time conversations' events, calls' waits and answers and the wallboard's day are taken from (tests inject
    one; None: the real time). ``worker``: its number among ``serve --workers N`` (None: a lone node). An empty
    store gets its agents (the agents file's, or a 'demo' admin whose password :attr:`Services.demo_password`
    holds) from a lone node or worker 0 only, so that the one banner a person sees in the terminal is the one that
    knows the password; a worker's /metrics answers for its siblings too (gateway/ops/worker_metrics.py)."""
    apply_rtc_settings(settings)
    first_run(settings)
    stack = contextlib.AsyncExitStack()
    try:
        services = await _build(settings, stack, clock or now_ms, worker=worker)
    except BaseException:
        await stack.aclose()
        raise
    services.calls.admission.serving()  # the start-up's own work (models, flows, seeding) was not load
    log.info("gateway services started with %d agents", len(services.directory), extra={"node": settings.node_id})
    return services


def _on_stop(stack: contextlib.AsyncExitStack, step: Callable[[], Awaitable[object]]) -> None:
    """Run ``step`` when the node stops; one that fails (Redis gone) is logged and does not stop the rest."""

    async def quietly() -> None:
        try:
            await step()
        except (aioredis.RedisError, OSError) as exc:
            log.warning("shutdown step %s failed: %s", getattr(step, "__qualname__", step), exc)

    stack.push_async_callback(quietly)


def remote_tts(settings: Settings, metrics: Metrics) -> WyomingTts | None:
    """The Wyoming text-to-speech server the prompts come from (None: espeak-ng only)."""
    if not settings.tts_url:
        return None
    breaker = CircuitBreaker(
        f"tts {settings.tts_url}", on_change=lambda state: metrics.speech_server_breaker("tts", state)
    )
    return WyomingTts(
        settings.tts_url, voice=settings.tts_voice, timeout_s=settings.tts_timeout_seconds, breaker=breaker
    )


async def _build(
    settings: Settings, stack: contextlib.AsyncExitStack, clock: Callable[[], int], *, worker: int | None
) -> Services:
    """Each service is built after what it uses; each one started has its stop pushed on ``stack`` right away."""
    # the node's metrics (its own registry): passed to every service that counts something
    metrics = Metrics(settings.node_id)
    # Loads the speech models the flows use (once per process), so the first caller does not wait for them.
    try:
        speech = SpeechRecognition.configure(
            settings.vosk_model,
            settings.data_dir,
            processes=settings.asr_processes,
            asr_url=settings.asr_url,
            asr_timeout_s=settings.asr_timeout_seconds,
            on_breaker=metrics.speech_server_breaker,
            vad=settings.vad,
        )
    except AsrError as exc:
        raise ConfigError(exc.message, field="vosk_model") from None
    stack.push_async_callback(asyncio.to_thread, speech.close)  # last: after the calls, no listener uses it
    flows_dir = settings.flows_dir or shipped_flows_dir()
    flow_files = await asyncio.to_thread(FlowRegistry, flows_dir, check=speech.check)
    opus = OpusPrompts()  # prompts and music encoded once, shared by every call and agent leg

    async def queue_of(cid: str) -> str | None:
        conv = await conversations.get(cid)
        return conv.get("queue") if conv is not None else None

    async def music_of(name: str) -> str | None:
        queue = await queues.get(name)
        return queue.music if queue is not None else None

    # music on hold: the file a caller's queue names in the flows directory, else the generated music
    music = HoldMusic(opus, flows_dir=flows_dir, queue_of=queue_of, music_of=music_of)
    _on_stop(stack, music.close)  # its files' decoding in the background
    for error in flow_files.errors:
        log.error("flow error: %s", error)

    embedded = None
    url = None
    redis_connect.check(settings)
    if not redis_connect.external(settings):
        embedded = EmbeddedRedis(settings.data_dir)
        _on_stop(stack, embedded.stop)
        url = await embedded.start()
    # A bounded pool that makes callers wait for a free connection instead of failing under load.
    redis = redis_connect.client(settings, url)
    keys = Keys(redis_connect.key_prefix(settings))
    store = Store(
        redis,
        keys,
        max_timeline_events=settings.max_timeline_events,
        event_log_max_entries=settings.event_log_max_entries,
        durable_replicas=settings.redis_durable_replicas,
        durable_wait_ms=settings.redis_durable_wait_ms,
    )
    _on_stop(stack, store.aclose)
    await redis_connect.reach(redis, settings, url)
    log.info("Redis: %s", redis_connect.describe(settings, url))
    bus = Bus(redis, timeout=settings.redis_timeout)
    await bus.start(always=keys.agent_channel("__node__"))
    _on_stop(stack, bus.stop)

    # the agents directory (every node's copy follows the store) and the audit log
    directory = AgentDirectory(store, bus)
    await directory.start()
    _on_stop(stack, directory.stop)
    audit = AuditLog(store, max_entries=settings.audit_max_entries)
    # queues as objects: made from the flows' names on a store that has none; from then on a flow must name one to
    # be published (gateway/flows/versions.py asks names()); one a published flow names is not deleted
    queues = QueueSettings(
        store,
        flow_users=lambda name: sorted(f.name for f in flows.snapshot().values() if name in f.queue_refs()),
        flow_exists=lambda name: name in flows,
        default_announce_seconds=int(settings.announce_seconds),
        default_service_level_seconds=max(1, min(3600, round(settings.service_level_seconds))),
        music_check=music.check,
    )
    await queues.ensure({DEFAULT_QUEUE, *(q for f in flow_files.snapshot().values() for q in f.queue_refs())})
    # flows: the published version of each flow, the same on every node; files with no versions imported
    # new calls and chats start in the flow an admin chose, else in --voice-flow / --chat-flow
    defaults: dict[Entry, str | None] = {Entry.CALLS: settings.voice_flow, Entry.CHATS: settings.chat_flow}
    flows = LiveFlows(flows_dir, FlowStore(store), bus, flow_files, defaults=defaults)
    await flows.start()
    _on_stop(stack, flows.stop)
    flow_versions = FlowVersions(flows, flows.store, check=speech.check, queues=queues, audit=audit)
    await flow_versions.import_files()
    log.info("flows in service: %s", ", ".join(f"{n} {flows.get(n).version}" for n in flows.names()) or "none")

    # contact: routing wakes up for callbacks that come due, and offers them when it assigns their conversation
    routing_wake = asyncio.Event()
    callbacks = Callbacks(
        store,
        wake_router=routing_wake.set,
        ring_seconds=settings.callback_ring_seconds,
        recovery_seconds=settings.callback_recovery_seconds,
        metrics=metrics,
    )
    router = Router(
        store,
        overflow_seconds=settings.skill_overflow_seconds or None,
        calls_block_chats=settings.calls_block_chats,
        on_assigned=[callbacks.assigned],
        wake=routing_wake,
        metrics=metrics,
        rules=queues.rules,
    )
    presence = Presence(store, router, roles_of=lambda aid: a.roles if (a := directory.agents.get(aid)) else None)
    dispositions = Dispositions(store, settings.dispositions)  # the admin's list, else --dispositions
    code_watch = CodeWatch(bus, keys.center_channel)  # an admin's save reaches every node's open desks
    await code_watch.start()
    _on_stop(stack, code_watch.stop)
    conversations = Conversations(
        store,
        router,
        dispositions,
        callbacks=callbacks,
        bot_first=lambda: flows.answering(Entry.CHATS) is not None,
        metrics=metrics,
        queues=queues,
        clock=clock,
    )
    queue_board = QueueBoard(bus, conversations, keys.queue_channel)
    help_requests = HelpRequests(conversations)  # agents' requests for a supervisor's help (the wallboard lists them)
    wallboard = Wallboard(
        store,
        bus,
        router,
        callbacks,
        thresholds_from(
            settings.wallboard_service_level_target,
            settings.wallboard_wait_target_seconds,
            settings.service_level_seconds,
            settings.center_timezone,
        ),
        reports=Reports(
            RollupStore(store, retention_days=settings.rollup_retention_days, zone=settings.center_timezone),
            sl_threshold_s=settings.service_level_seconds,
            sl_by_queue=queues.service_levels_ms,
        ),
        clock=clock,
        queues=queues.all,
        help_requests=help_requests.open_requests,
    )
    for service in (queue_board, router, callbacks, presence, wallboard):
        await service.start()
        _on_stop(stack, service.stop)

    # flows: webhooks and the chat bot
    http = webhook_session(allow=settings.webhook_allow, secret=settings.webhook_secret)
    _on_stop(stack, http.close)
    bots = ChatBots(flows, conversations, bus, keys, http)
    chat_flow = flows.answering(Entry.CHATS)
    if chat_flow and chat_flow not in flows:
        raise ConfigError(
            f"chat flow '{chat_flow}' is not among the loaded flows ({', '.join(flows.names()) or 'none'})",
            field="chat_flow",
        )
    _on_stop(stack, bots.close_all)
    # a queue's maximum wait: overflow, a callback, or a flow (chats run it as a bot on this node)
    max_wait = MaxWait(store, queues, router.queue, callbacks=callbacks, run_flow=bots.start, wake_router=router.kick)
    await max_wait.start()
    _on_stop(stack, max_wait.stop)

    # calls: the agents' side first, then the calls that reach it, then the commands that reach both
    limits = Limits(store, LimitConfig.from_settings(settings))

    async def publish_call(cid: str, message: CallUpdate | CallCaption) -> None:
        await bus.publish(keys.conv_channel(cid), message)

    ice = ice_config(settings)
    live_calls = LiveCalls()
    # fed by the metrics sampler, read by calls and /readyz
    admission = Admission(
        settings.admission_max_lag_ms, settings.admission_max_late_percent, settings.admission_max_loop_cpu_percent
    )
    anchors = CallAnchors(store, settings.node_id, on_change=wallboard.local_change)
    agent_calls = AgentCalls(
        AgentLegs(
            ice=ice,
            opus=opus,
            publish=publish_call,
            bus=bus,
            keys=keys,
            music=music,
            relay=settings.bridge_relay,
            inband_dtmf=settings.bridge_inband_dtmf,
        ),
        conversations,
        presence,
        live_calls,
        anchors=anchors,
        callbacks=callbacks,
        speech=speech,
        transcripts=Transcripts(speech.pool, settings.max_transcripts),
        ring_seconds=settings.ring_seconds,
        agent_drop=settings.agent_drop,
        reconnect_seconds=settings.agent_reconnect_seconds,
        recordings=settings.data_dir / "recordings",
        waits=WaitEstimates(store),
        announce_seconds=settings.announce_seconds,
        wrap_up_seconds=settings.wrap_up_seconds,
        clock=clock,
        metrics=metrics,
    )
    calls = CallManager(
        CallConfig(ice=ice, max_calls=settings.max_calls, flow=settings.voice_flow),
        conversations,
        flows,
        Synthesizer(cache_dir=settings.data_dir / "tts-cache", remote=remote_tts(settings, metrics)),
        http,
        publish_call,
        speech,
        limits=limits,
        agents=agent_calls,
        callbacks=callbacks,
        calls=live_calls,
        opus=opus,
        registry=anchors,
        metrics=metrics,
        admission=admission,
    )
    # every node's heartbeat and the watch over the others: stopped after the calls ended (pushed first)
    watch = NodeWatch(
        store,
        settings.node_id,
        Takeover(
            store,
            settings.node_id,
            conversations,
            presence,
            bus.publish,
            callbacks=callbacks,
            limits=limits,
            wrap_up_seconds=settings.wrap_up_seconds,
        ),
        on_lost=lambda: calls.end_all(NODE_LOST),
    )
    await watch.start()
    _on_stop(stack, watch.stop)
    _on_stop(stack, anchors.stop)
    _on_stop(stack, agent_calls.stop)  # (after the calls ended: the stack runs backwards)
    _on_stop(stack, calls.close_all)
    call_commands = CallCommands(agent_calls, anchors, bus, keys, directory)
    await call_commands.start()
    _on_stop(stack, call_commands.stop)
    node_metrics = NodeMetrics(
        metrics,
        store=store,
        routing_queue=router.queue,
        calls=calls,
        agent_calls=agent_calls,
        callbacks=callbacks,
        admission=admission,
    )
    await node_metrics.start()
    _on_stop(stack, node_metrics.stop)
    worker_metrics = None
    if worker is not None:  # a worker: /metrics answers for the machine's workers together
        worker_metrics = WorkerMetrics(settings.data_dir / "metrics", worker, node_metrics.as_last_read)
        await worker_metrics.start()
        _on_stop(stack, worker_metrics.stop)

    # wire: sessions, tokens, managing agents
    sessions = LoginSessions(store, bus, lifetime_seconds=settings.agent_token_hours * 3600, node_id=settings.node_id)
    handover = Handover(conversations, presence)
    agent_admin = AgentAdmin(directory, sessions, audit, release=handover.release_agent)
    # agents who left without logging out (or removed by the ``agents`` command): their chats back in the queue
    absent_agents = AbsentAgents(
        store, handover.release_agent, directory.lookup, gone_seconds=settings.agent_gone_seconds
    )
    await absent_agents.start()
    _on_stop(stack, absent_agents.stop)
    # customers with a widget open; a waiting chat whose customer left is closed as abandoned
    customer_presence = CustomerPresence(store)
    await customer_presence.start()
    _on_stop(stack, customer_presence.stop)
    gone_customers = GoneCustomers(
        store, conversations.abandon, router.queue, gone_seconds=settings.customer_gone_seconds
    )
    await gone_customers.start()
    _on_stop(stack, gone_customers.stop)
    seen = [*flows.snapshot().values(), *flow_files.snapshot().values()]
    demo_password = await _seed_agents(agent_admin, settings, seen, queues) if worker in (None, 0) else None
    attachment_files = LocalAttachmentFiles(settings.data_dir / "attachments")
    rollup_db = RollupStore(store, retention_days=settings.rollup_retention_days, zone=settings.center_timezone)
    agent_time = AgentTime(store, rollup_db)  # how agents' signed-in time is spent (occupancy reports)
    await agent_time.start()
    _on_stop(stack, agent_time.stop)
    retention = Retention(
        store,
        retention_days=settings.retention_days,
        recordings=settings.data_dir / "recordings",
        attachments=attachment_files,
        event_log_keep_hours=settings.event_log_keep_hours,
    )
    services = Services(
        settings=settings,
        keys=keys,
        store=store,
        bus=bus,
        router=router,
        presence=presence,
        customer_presence=customer_presence,
        conversations=conversations,
        handover=handover,
        supervision=ChatSupervision(conversations, handover, presence),
        help=help_requests,
        signer=TokenSigner(await _shared_secret(store, settings, embedded=embedded is not None)),
        directory=directory,
        queue_board=queue_board,
        wallboard=wallboard,
        flows=flows,
        flow_versions=flow_versions,
        audit=audit,
        calls=calls,
        speech=speech,
        agent_calls=agent_calls,
        call_commands=call_commands,
        callbacks=callbacks,
        http=http,
        embedded=embedded,
        site_keys=SiteKeys(settings.site_keys),
        limits=limits,
        sessions=sessions,
        login_limits=LoginLimits(store, limits.config.trusted_proxies),  # parsed once
        agent_admin=agent_admin,
        demo_password=demo_password,
        history=ConversationHistory(store, conversations),
        canned=CannedResponses(store),
        attachments=Attachments(
            conversations,
            attachment_files,
            max_bytes=int(settings.attachment_max_mb * 1_000_000),
            per_conversation=settings.attachments_per_conversation,
        ),
        retention=retention,
        erasure=Erasure(
            store,
            conversations,
            callbacks,
            calls,
            retention,
            attachment_files,
            recordings=settings.data_dir / "recordings",
            customer_token_days=settings.customer_token_days,
            rewrite_aof=embedded is not None,
        ),
        bots=bots,
        metrics=node_metrics,
        agent_time=agent_time,
        reports=Reports(rollup_db, sl_threshold_s=settings.service_level_seconds, sl_by_queue=queues.service_levels_ms),
        rollups=RollupConsumer(
            EventLogStore(redis, keys),
            rollup_db,
            settings.node_id,
            sl_threshold_ms=int(settings.service_level_seconds * 1000),
            sl_by_queue=queues.service_levels_ms,
        ),
        webhooks=Webhooks(store, allow=settings.webhook_allow),
        webhook_delivery=WebhookDelivery(
            store,
            node_id=settings.node_id,
            allow=settings.webhook_allow,
            retry_seconds=settings.webhook_retry_hours * 3600,
            attempts=settings.webhook_attempts,
            max_backoff_seconds=settings.webhook_max_backoff_seconds,
            outbox_max=settings.webhook_outbox_max,
            metrics=metrics,
        ),
        queues=queues,
        music=music,
        away_reasons=AwayReasons(store),
        dispositions=dispositions,
        code_watch=code_watch,
        widget=WidgetConfig(store),
        node_watch=watch,
        worker_metrics=worker_metrics,
        stack=stack,
    )
    if settings.webhooks_file is not None:
        await services.webhooks.seed(settings.webhooks_file)
    for started in (limits, services.retention, services.rollups, services.webhook_delivery):
        await started.start()
        _on_stop(stack, started.stop)
    reloader = asyncio.create_task(_reload_flows(flow_versions), name="flow-reloader")
    stack.push_async_callback(cancel_and_wait, reloader)
    return services


async def _reload_flows(versions: FlowVersions) -> None:
    """Follow the flow files: a changed file becomes a new published version (gateway/flows/versions.py); a call in
    progress keeps the version it started with. Also reads the live versions again, in case a publish announced on
    the bus was missed."""
    files = versions.live.files
    reported: tuple[object, ...] = tuple(files.errors)
    while True:
        await asyncio.sleep(FLOW_RELOAD_SECONDS)
        report = await asyncio.to_thread(files.reload_if_changed)
        if report.loaded:
            await versions.files_changed(report.loaded)
        if report.errors != reported:  # say it once, not every few seconds
            for error in report.errors:
                log.error("flow file not loaded: %s", error)
            reported = report.errors
        try:
            await versions.live.refresh()
        except StoreError as exc:
            log.warning("flow versions not read: %s", exc)


async def run_backfill(settings: Settings, first: date, last: date) -> int:
    """``contact-gateway reports backfill``: rebuild the report counters of days ``first``..``last`` from the stored
    timelines (the Redis of ``--redis-url``, or the embedded one of ``--data-dir``), in the days and hours of
    ``--center-timezone``; returns the events counted."""
    async with store_only(settings) as (store, _bus):
        db = RollupStore(store, retention_days=settings.rollup_retention_days, zone=settings.center_timezone)
        queues = QueueSettings(store, default_service_level_seconds=int(settings.service_level_seconds))
        by_queue = await queues.service_levels_ms()
        default_ms = int(settings.service_level_seconds * 1000)
        return await backfill(store, db, first, last, sl_threshold_ms=default_ms, sl_by_queue=by_queue)


@contextlib.asynccontextmanager
async def store_only(settings: Settings) -> AsyncIterator[tuple[Store, Bus]]:
    """The store ``serve`` uses, for a command (``flows push``, ...): ``--redis-url``, else the data directory's
    embedded Redis (the running one is reused; one started here is stopped after). The bus is not started."""
    embedded = None
    url = None
    redis_connect.check(settings)
    if not redis_connect.external(settings):
        embedded = EmbeddedRedis(settings.data_dir)
        url = await embedded.start()
    redis = redis_connect.client(settings, url)
    try:
        await redis_connect.reach(redis, settings, url)  # credentials, TLS, a Redis still loading: as serve does
        yield (
            Store(redis, Keys(redis_connect.key_prefix(settings)), max_timeline_events=settings.max_timeline_events),
            Bus(redis, timeout=settings.redis_timeout),
        )
    finally:
        await redis.aclose()
        if embedded is not None:
            await embedded.stop()


async def stop(services: Services) -> None:
    """Stop everything :func:`start` started, in reverse order; a step that fails (Redis gone) does not stop
    the rest."""
    await services.stack.aclose()
