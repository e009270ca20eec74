"""``contact-gateway``: run a node, manage agents.

Errors in configuration end the command with exit status 2 and one line
naming the file, the entry and what is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import errno
import getpass
import logging
import os
import re
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import web

from gateway import listen_port, logs
from gateway.config import BY_NAME, SETTINGS, Settings, from_sources
from gateway.contact.agents_file import load_agents
from gateway.contact.password_rules import weakness
from gateway.data_dir import hold_serve_lock, prepare_data_dir, private_mkdir
from gateway.errors import ConfigError, GatewayError
from gateway.store.store import StoreError
from ivr.errors import FlowError
from ivr.hours import Schedule
from ivr.model import Flow
from media import event_loop as node_loop

if TYPE_CHECKING:
    from gateway.flows.live import LiveFlows
    from gateway.flows.versions import FlowVersions
    from gateway.store.store import Store
    from gateway.wire.services import Services
    from ivr.registry import FlowRegistry

log = logging.getLogger("gateway")
BACKFILL_SETTINGS = ("data_dir", "redis_url", "service_level_seconds", "rollup_retention_days", "center_timezone")


def add_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per setting; a flag given is passed as text to :func:`from_sources` (absent: None)."""
    for each in SETTINGS:
        default = _plain(each.default)
        parser.add_argument(
            each.flag,
            dest=each.name,
            choices=each.choices or None,
            help=f"{_plain(each.help)} [env {each.env}; default: {default}]",
        )


def flag_values(args: argparse.Namespace) -> dict[str, str | None]:
    return {each.name: getattr(args, each.name) for each in SETTINGS}


def _plain(markdown: str) -> str:
    return markdown.replace("`", "").replace("%", "%%")  # argparse formats help with %


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contact-gateway", description="Real-time voice and chat contact gateway.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve",
        help="run a gateway node",
        description="Run a gateway node. With no REDIS_URL an embedded Redis is started "
        "in the data directory; several nodes may share one REDIS_URL.",
    )
    add_flags(serve)

    flows = sub.add_parser(
        "flows",
        help="check and try IVR/bot flows (validate DIR, simulate FLOW, schema) and manage their versions in the "
        "store (push DIR, pull DIR, replay NAME: `flows push --help`)",
        add_help=False,
    )
    flows.add_argument("flow_args", nargs=argparse.REMAINDER)
    models = sub.add_parser(
        "models", help="list, install and locate Vosk speech models (list, install NAME, path)", add_help=False
    )
    models.add_argument("model_args", nargs=argparse.REMAINDER)

    reports = sub.add_parser("reports", help="report counters (backfill)")
    reports_sub = reports.add_subparsers(dest="reports_command", required=True)
    fill = reports_sub.add_parser(
        "backfill",
        help="rebuild the report counters of a range of days from the stored timelines (clears those days first)",
    )
    fill.add_argument("--from", dest="first", help="first day YYYY-MM-DD (default: 90 days before --to)")
    fill.add_argument("--to", dest="last", help="last day YYYY-MM-DD (default: today), days of --center-timezone")
    for name in BACKFILL_SETTINGS:
        one = BY_NAME[name]
        fill.add_argument(one.flag, dest=name, default=None, help=f"as for serve ({one.env})")

    agents = sub.add_parser(
        "agents",
        help="manage agents (list, add, passwd, remove, import, export, check) in the store the gateway uses",
        description="Manage the agents in the store a gateway uses: give the same --data-dir (embedded Redis) or "
        "--redis-url as `serve` (or their environment variables CG_DATA_DIR, REDIS_URL). A running gateway sees "
        "each change at once, on every node.",
    )
    agents_sub = agents.add_subparsers(dest="agents_command", required=True)

    def store_flags(p: argparse.ArgumentParser) -> None:
        for name in ("data_dir", "redis_url"):
            each = BY_NAME[name]
            p.add_argument(each.flag, dest=name, help=f"as for serve [env {each.env}]")

    listing = agents_sub.add_parser("list", help="list the agents")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    add = agents_sub.add_parser("add", help="add an agent (asks for the password, stores only its hash)")
    add.add_argument("agent_id")
    add.add_argument("--name", help="display name (default: the id)")
    add.add_argument("--capacity", type=int, default=3, help="concurrent chats (default 3)")
    add.add_argument("--roles", default="agent", help="comma-separated: agent, supervisor, admin (default agent)")
    add.add_argument("--supervisor", action="store_true", help="also the supervisor role")
    add.add_argument("--admin", action="store_true", help="also the admin role")
    add.add_argument("--skills", help="comma-separated skills with optional levels 1-10, e.g. billing:5,spanish")
    passwd = agents_sub.add_parser("passwd", help="set an agent's password (their sessions end at once)")
    passwd.add_argument("agent_id")
    for p in (add, passwd):
        p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
        p.add_argument("--one-time", action="store_true", help="the agent must change it at their next login")
    remove = agents_sub.add_parser("remove", help="remove an agent (their sessions end at once)")
    remove.add_argument("agent_id")
    imports = agents_sub.add_parser("import", help="add the agents of an agents file (TOML, hashed passwords)")
    imports.add_argument("file")
    imports.add_argument("--replace", action="store_true", help="overwrite agents that exist (else: refused)")
    export = agents_sub.add_parser("export", help="write every agent as an agents file (hashed passwords)")
    export.add_argument("file", nargs="?", default="-", help="where (default: standard output)")
    for p in (listing, add, passwd, remove, imports, export):
        store_flags(p)
    check = agents_sub.add_parser("check", help="validate an agents file")
    check.add_argument("--file", default=None, help="agents file (default DATA_DIR/agents.toml)")
    return parser


def banner(settings: Settings, password: str | None) -> str:
    """What a person who just started the gateway in a terminal needs: where to go, and how to sign in."""
    from gateway.runtime import change_demo_password_command

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    base = f"http://{'[' + host + ']' if ':' in host else host}:{settings.port}"
    sign_in = f"sign in as demo / {password}" if password is not None else "agents: contact-gateway agents list"
    lines = [
        "",
        "  Contact gateway is running.",
        f"    Customer demo   {base}/",
        f"    Agent desk      {base}/agent   ({sign_in})",
    ]
    if password is not None:
        lines.append(f"    Change it       {change_demo_password_command(settings)}")
    lines += [
        f"    Admin console   {base}/admin   (agents, queues, flows, widget; the same sign-in)",
        f"    Wallboard       {base}/supervisor   (reports: {base}/supervisor/reports)",
        "    Stop            Ctrl+C",
        "",
    ]
    return "\n".join(lines)


async def _serve(settings_flags: dict[str, str | None], argv: list[str]) -> int:
    from gateway.store import connect as redis_connect
    from gateway.workers import worker_number

    settings = from_sources(settings_flags, os.environ)
    worker = worker_number()
    logs.setup(settings.log_format, worker=worker, node=settings.node_id)
    if worker is not None:  # a worker's siblings hold the port, its parent the claim and the data directory
        return await _serve_here(settings, settings_flags, argv, worker)
    # a lone node or the workers' parent: the port must be free, and stay so while it starts (listen_port.claim)
    with listen_port.claim(settings.host, settings.port):
        listen_port.check_free(settings.host, settings.port)
        if not redis_connect.external(settings):  # one serve per embedded Redis (its data dir)
            prepare_data_dir(settings.data_dir)
            with hold_serve_lock(settings.data_dir):
                return await _serve_here(settings, settings_flags, argv, worker)
        return await _serve_here(settings, settings_flags, argv, worker)


async def _serve_here(
    settings: Settings, settings_flags: dict[str, str | None], argv: list[str], worker: int | None
) -> int:
    from gateway.app import create_app
    from gateway.runtime import first_run
    from gateway.wire.services import SERVICES
    from gateway.workers import Supervisor

    if settings.workers > 1 and worker is None:
        return await Supervisor(settings, argv).run()
    for each in SETTINGS:
        if each.secret and settings_flags.get(each.name) is not None:
            log.warning(
                "--%s on the command line is visible to every local user (ps, /proc); prefer the "
                "environment variable %s",
                each.flag[2:],
                each.env,
            )
    first_run(settings)
    app = create_app(settings, worker=worker)
    runner = web.AppRunner(app, shutdown_timeout=5, access_log=None)
    await runner.setup()
    password = app[SERVICES].demo_password  # set by the first start of an empty store
    site = web.TCPSite(runner, settings.host, settings.port, reuse_port=worker is not None)  # workers share it
    try:
        await site.start()
    except OSError as exc:  # taken since the check (or a worker's siblings are gone): stop what started, say why
        await runner.cleanup()
        if exc.errno not in listen_port.REFUSED:  # (a worker restarts after a passing trouble, as after a crash)
            raise
        field = "host" if exc.errno == errno.EADDRNOTAVAIL else "port"
        raise ConfigError(listen_port.in_use_message(settings.host, settings.port, exc), field=field) from None
    if settings.port == 0 and runner.addresses:  # --port 0: the port the system chose, in the log and the banner
        settings = replace(settings, port=int(runner.addresses[0][1]))
    log.info(
        "listening on http://%s:%s (customer demo at /, agent desk at /agent, admin console at /admin, wallboard at "
        "/supervisor)",
        f"[{settings.host}]" if ":" in settings.host else settings.host,
        settings.port,
    )
    # a person started it: one banner, from the node that seeded an empty store (worker 0 of several)
    if sys.stderr.isatty() and worker in (None, 0):
        print(banner(settings, password), file=sys.stderr, flush=True)
    signals: asyncio.Queue[signal.Signals] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # (a closed terminal: as SIGTERM, not a silent death)
        loop.add_signal_handler(sig, signals.put_nowait, sig)
    if await _stop_or_taken_over(app[SERVICES], signals) and settings.drain_seconds > 0:
        await drain(app[SERVICES], settings.drain_seconds, signals)
    log.info("shutting down")
    await runner.cleanup()
    return TAKEN_OVER if _was_taken_over(app[SERVICES]) else 0


#: The status of a node that stops because another took it over (not 2: its configuration is fine; its worker
#: parent, systemd's Restart=on-failure or Kubernetes start it again)
TAKEN_OVER = 1


def _was_taken_over(services: Services) -> bool:
    return services.node_watch is not None and services.node_watch.taken_over.is_set()


async def _stop_or_taken_over(services: Services, signals: asyncio.Queue[signal.Signals]) -> bool:
    """Until a signal (True: drain first, SIGTERM or SIGHUP) or another node took this one over (False: its calls
    were ended already; it stops at once, to be started again)."""
    from gateway.tasks import cancel_and_wait

    got = asyncio.create_task(signals.get())
    waits: set[asyncio.Task[Any]] = {got}
    if services.node_watch is not None:
        waits.add(asyncio.create_task(services.node_watch.taken_over.wait()))
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await cancel_and_wait(*waits)
    if not got.done() or got.cancelled():
        log.error("another node took this one over (its heartbeat stalled): stopping, to be started again")
        return False
    sig = got.result()
    log.info("%s: stopping", sig.name)
    return sig in (signal.SIGTERM, signal.SIGHUP)


DRAIN_POLL_SECONDS = 0.2


async def drain(services: Services, seconds: float, signals: asyncio.Queue[signal.Signals]) -> None:
    """SIGTERM: take no new call or chat (``/readyz`` 503 ``draining``) and wait until this node's calls have ended,
    for at most ``seconds`` or until a second signal; then the shutdown ends the rest (``gateway_shutdown``)."""
    from gateway.tasks import cancel_and_wait

    calls = services.calls.calls
    services.calls.admission.drain()
    log.info("draining: no new calls or chats; %d calls in progress get up to %.0f s", len(calls), seconds)

    async def calls_ended() -> None:
        while calls:
            await asyncio.sleep(DRAIN_POLL_SECONDS)

    ended = asyncio.ensure_future(calls_ended())
    again = asyncio.ensure_future(signals.get())
    try:
        await asyncio.wait({ended, again}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await cancel_and_wait(ended, again)
    if calls:
        log.info("drain over: ending the %d calls still in progress", len(calls))


def _speech_check() -> Callable[[Flow], list[FlowError]] | None:
    """The speech recognizer this node would use (VOSK_MODEL, CG_DATA_DIR), to validate flows against it."""
    from gateway.flows.speech import SpeechRecognition
    from media.asr import AsrError

    logging.basicConfig(level=logging.ERROR)  # the check logs which model it loads; validate prints errors only
    settings = from_sources({}, os.environ)
    try:
        speech = SpeechRecognition.configure(settings.vosk_model, settings.data_dir, workers=1)
    except AsrError as exc:
        print(f"speech recognition not checked: {exc.message}", file=sys.stderr)
        return None
    return speech.check


def _agents_file(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    return from_sources(
        {},
        {
            name: os.environ[name]
            for name in (BY_NAME["agents_file"].env, BY_NAME["data_dir"].env)
            if name in os.environ
        },
    ).agents_path


def _read_password(agent_id: str, from_stdin: bool) -> str | None:
    """The new password, asked twice on a terminal; None (said why) when it will not do."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {agent_id}: ")
        if password != getpass.getpass("again: "):
            print("passwords differ", file=sys.stderr)
            return None
    why = weakness(password, agent_id=agent_id)
    if why is not None:
        print(f"contact-gateway: {why}", file=sys.stderr)
        return None
    return password


def _backfill(args: argparse.Namespace) -> int:
    from gateway.runtime import run_backfill

    given = {n: getattr(args, n) for n in BACKFILL_SETTINGS if getattr(args, n) is not None}
    settings = from_sources(given, os.environ)
    try:
        last = date.fromisoformat(args.last) if args.last else datetime.now(ZoneInfo(settings.center_timezone)).date()
        first = date.fromisoformat(args.first) if args.first else last - timedelta(days=89)
    except ValueError as exc:
        raise ConfigError(f"--from / --to: {exc}", field="from") from None
    if last < first:
        raise ConfigError("--to is before --from", field="to")
    counted = asyncio.run(run_backfill(settings, first, last))
    print(f"report counters of {first} .. {last} rebuilt from {counted} events")
    return 0


FLOW_STORE_COMMANDS = ("push", "pull", "replay")
#: listed in ``flows --help`` with the file commands
FLOW_STORE_HELP = {
    "push": "save and publish every changed flow file of DIR in the gateway's store",
    "pull": "write the live version of every flow into DIR",
    "replay": "replay past sessions of flow NAME against a version or a file",
}


def _stored_queue_hours(args: argparse.Namespace) -> dict[str, Schedule | None] | None:
    """``flows simulate --data-dir D`` / ``--redis-url U``: each queue's opening hours in that store (the simulator
    took every queue as open, where a call took the closed branch: a newcomer's finding); None without either."""
    from gateway import runtime
    from gateway.contact.queues import QueueSettings

    if not (args.data_dir or args.redis_url):
        return None
    settings = from_sources({"data_dir": args.data_dir, "redis_url": args.redis_url}, os.environ)

    async def read() -> dict[str, Schedule | None]:
        async with runtime.store_only(settings) as (store, _):
            return await QueueSettings(store).hours()

    try:
        return asyncio.run(read())
    except GatewayError as exc:  # one line, as push/pull/replay say it (a review: a 29-frame traceback)
        print(f"contact-gateway: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from None
    except StoreError as exc:
        raise SystemExit(_unreachable(exc)) from None


def flows_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contact-gateway flows",
        description="Flow versions in the gateway's store (the same --data-dir / --redis-url as serve, or their "
        "environment variables): a running gateway sees a push at once.",
    )
    parser.add_argument("--data-dir", dest="data_dir", help=f"[env {BY_NAME['data_dir'].env}]")
    parser.add_argument("--redis-url", dest="redis_url", help=f"[env {BY_NAME['redis_url'].env}]")
    # the same flags after the sub-command too, as `agents` and `reports` take them ("flows pull DIR --data-dir D"
    # was refused, the README's way: an operator's finding)
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument(
        "--data-dir", dest="data_dir", default=argparse.SUPPRESS, help=f"[env {BY_NAME['data_dir'].env}]"
    )
    store.add_argument(
        "--redis-url", dest="redis_url", default=argparse.SUPPRESS, help=f"[env {BY_NAME['redis_url'].env}]"
    )
    sub = parser.add_subparsers(dest="flows_command", required=True)
    push = sub.add_parser(
        "push", parents=[store], help="save and publish every changed flow file of DIR; prints what changed"
    )
    push.add_argument("directory", type=Path)
    push.add_argument("--message", "-m", default="", help="the versions' message (default: pushed from DIR)")
    pull = sub.add_parser("pull", parents=[store], help="write the live version of every flow into DIR (NAME.yaml)")
    pull.add_argument("directory", type=Path)
    replay = sub.add_parser(
        "replay",
        parents=[store],
        help="replay past sessions of flow NAME against a version or a file; exit 1 when paths change",
    )
    replay.add_argument("name")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", help="a saved version id")
    which.add_argument("--file", type=Path, help="a flow file not saved (a draft under review)")
    replay.add_argument("--since", default="7d", help="a span (7d, 12h, 30m) or an ISO time (default 7d)")
    replay.add_argument("--limit", type=int, default=2000, help="at most this many sessions (default 2000)")
    return parser


def _flows_command(argv: list[str]) -> str:
    """The sub-command of ``flows`` (past ``--data-dir X`` / ``--redis-url Y``)."""
    rest = list(argv)
    while rest and rest[0] in ("--data-dir", "--redis-url"):
        rest = rest[2:]
    while rest and rest[0].startswith(("--data-dir=", "--redis-url=")):
        rest = rest[1:]
    return rest[0] if rest else ""


async def _flows_store(argv: list[str]) -> int:
    """``flows push | pull | replay`` against the store ``serve`` uses (an embedded Redis is reused if running)."""
    from gateway import runtime
    from gateway.contact.audit import AuditLog
    from gateway.contact.queues import QueueSettings
    from gateway.flows.live import LiveFlows
    from gateway.flows.versions import BadFlow, FlowVersions
    from gateway.store.flow_store import FlowStore
    from ivr.registry import FlowRegistry

    args = flows_parser().parse_args(argv)
    settings = from_sources({"data_dir": args.data_dir, "redis_url": args.redis_url}, os.environ)
    async with runtime.store_only(settings) as (store, bus):
        directory = Path(getattr(args, "directory", None) or settings.flows_dir or Path("."))
        files = await asyncio.to_thread(FlowRegistry, directory if directory.is_dir() else Path("."))
        live = LiveFlows(directory, FlowStore(store), bus, files)
        await live.refresh()
        # a push is checked and recorded as a console publish is: queues that exist, the audit log (a rollback
        # pushed from CI left no trace: a newcomer's finding); a store with no queue yet takes any name, as a node
        # makes its first queues from the flows' names
        queues = QueueSettings(store)
        versions = FlowVersions(
            live,
            live.store,
            check=_speech_check() if args.flows_command == "push" else None,
            queues=queues if await queues.names() else None,
            audit=AuditLog(store, max_entries=settings.audit_max_entries),
        )
        try:
            if args.flows_command == "push":
                return await _push(versions, files, args)
            if args.flows_command == "pull":
                return await _pull(live, directory, settings.flows_dir or runtime.shipped_flows_dir())
            return await _replay(store, live, versions, args)
        except BadFlow as exc:
            print(f"contact-gateway: {exc.message}", file=sys.stderr)
            for error in exc.errors:
                print(f"  {error}", file=sys.stderr)
            return 2


async def _push(versions: FlowVersions, files: FlowRegistry, args: argparse.Namespace) -> int:
    """Every flow file of the directory, checked against the store as a publish is: a goto into a flow that is live
    but not in the directory is fine (the directory's own check refused it: a newcomer's finding)."""
    from ivr.errors import FlowErrors
    from ivr.loader import flow_files, read_flow_text

    if not args.directory.is_dir():
        print(f"contact-gateway: {args.directory}: not a directory", file=sys.stderr)
        return 2
    texts: dict[str, str] = {}
    unread = 0
    for path in flow_files(args.directory):
        if path.stem in texts:
            print(f"{path}: another file already defines flow '{path.stem}'", file=sys.stderr)
            unread += 1
            continue
        try:
            texts[path.stem] = read_flow_text(path)
        except FlowErrors as exc:
            unread += 1
            for error in exc.errors:
                print(f"{error}", file=sys.stderr)
    message = args.message or f"pushed from {args.directory}"
    # each refusal is printed below as "NAME: refused: ..."; the node's log line for it said it again on stderr
    versions_log = logging.getLogger("gateway.flows.versions")
    level = versions_log.level
    versions_log.setLevel(logging.CRITICAL)
    try:
        done = await versions.publish_texts(texts, author=f"cli:{getpass.getuser()}", message=message)
    finally:
        versions_log.setLevel(level)
    for name, what in sorted(done.items()):
        print(f"{name}: {what}")
    return 2 if unread or any(w.startswith("refused") for w in done.values()) else 0


#: a flow's audio files (a play node's ``file``, a queue's ``music``): relative to the flow's directory
AUDIO_REF = re.compile(
    r"^\s*(?:-\s*)?(?:file|music):\s*[\"']?([^\"'\s#]+\.(?:wav|mp3|ogg))", re.IGNORECASE | re.MULTILINE
)


async def _pull(live: LiveFlows, directory: Path, sounds: Path) -> int:
    """Every live flow's text into ``directory``, with the audio files it names copied from ``sounds`` (the node's
    flows directory): the store holds texts only, and a pulled flow without its chime could not be validated or
    pushed back (an operator's finding)."""
    if not directory.exists():
        private_mkdir(directory)
    for name, vid in sorted((await live.store.live()).items()):
        stored = await live.store.version(name, vid)
        if stored is None:
            continue
        path = directory / f"{name}.yaml"
        if path.exists() and path.read_text(encoding="utf-8") == stored.yaml:
            print(f"{name}: unchanged {vid}")
        else:
            tmp = path.with_suffix(".yaml.tmp")
            tmp.write_text(stored.yaml, encoding="utf-8")
            tmp.replace(path)
            print(f"{name}: wrote {vid} ({stored.author}: {stored.message or 'no message'})")
        for ref in sorted(set(AUDIO_REF.findall(stored.yaml))):
            source, target = (sounds / ref).resolve(), directory / ref
            if target.exists() or not source.is_relative_to(sounds.resolve()):
                continue
            if not source.is_file():
                print(f"  {ref}: not in {sounds}: copy it beside {path.name} before validating or pushing")
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            print(f"  {ref}: copied from {sounds}")
    return 0


async def _replay(store: Store, live: LiveFlows, versions: FlowVersions, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from gateway.flows.replays import Replays, parse_since
    from ivr.errors import FlowErrors
    from ivr.loader import parse_flow, read_flow_text

    since = parse_since(args.since, datetime.now(UTC))
    replays = Replays(store, live, versions)
    if args.file is not None:
        try:
            draft = parse_flow(read_flow_text(args.file), args.file.with_name(f"{args.name}.yaml"))
        except FlowErrors as exc:
            for error in exc.errors:  # parsed as NAME.yaml beside it (the flow's name): said of the file read
                print(dataclasses.replace(error, file=str(args.file)), file=sys.stderr)
            return 2
        result = await replays.replay_flow(args.name, draft, since, args.limit)
        label = str(args.file)
    else:
        result = await replays.replay(args.name, args.version, since, args.limit)
        label = args.version
    print(result.summary(args.name, label))
    for d in result.differ:
        print(f"  {d['cid']}: {' > '.join(d['old_path'])}  =>  {' > '.join(d['new_path'])}")
    return 1 if result.differ else 0


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except BrokenPipeError:  # `flows simulate ... | head`: the reader left; no traceback (a newcomer's finding)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's own flush at exit would raise again
        return 1


def _main(argv: list[str]) -> int:
    if argv[:1] == ["flows"] and _flows_command(argv[1:]) in FLOW_STORE_COMMANDS:
        try:
            return asyncio.run(_flows_store(argv[1:]))
        except GatewayError as exc:
            print(f"contact-gateway: {exc.message}", file=sys.stderr)
            return 2
        except StoreError as exc:
            return _unreachable(exc)
    if argv[:1] == ["flows"]:  # the flow tools have their own parser (ivr.cli), checked with our recognizer
        from ivr.cli import main as flows_main

        return flows_main(argv[1:], check=_speech_check(), others=FLOW_STORE_HELP, queue_hours=_stored_queue_hours)
    if argv[:1] == ["models"]:  # so has the model tool (media.asr.cli)
        from media.asr.cli import main as models_main

        return models_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return node_loop.run(_serve(flag_values(args), argv[1:]))
        elif args.command == "reports":
            return _backfill(args)
        elif args.agents_command == "check":
            path = _agents_file(args.file)
            print(f"{path}: {len(load_agents(path))} agents, all valid")
        else:
            from gateway.agents_cli import run

            return asyncio.run(run(args, _read_password))
    except GatewayError as exc:
        print(f"contact-gateway: {exc.message}", file=sys.stderr)
        return 2
    except StoreError as exc:
        return _unreachable(exc)
    except EOFError:  # a password asked for with no terminal to type it in
        print(
            "contact-gateway: no password given: run it in a terminal, or give it with --password-stdin",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


def _unreachable(exc: StoreError) -> int:
    """Redis did not answer (down, a wrong address): one line, not a traceback; status 1, a passing trouble that a
    supervisor (a worker parent, systemd) may retry, where status 2 says the configuration is wrong (an operator's
    finding: 90 lines of traceback)."""
    print(f"contact-gateway: Redis not reachable: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
