"""``contact-gateway``: run a node, manage agents.

Errors in configuration end the command with exit status 2 and one line
naming the file, the entry and what is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aiohttp import web

from gateway import logs
from gateway.config import BY_NAME, SETTINGS, Settings, add_flags, flag_values, from_sources
from gateway.contact.agents import add_agent, load_agents, remove_agent, set_password
from gateway.contact.routing import parse_skills
from gateway.data_dir import private_mkdir
from gateway.errors import ConfigError, GatewayError
from ivr.errors import FlowError
from ivr.model import Flow

log = logging.getLogger("gateway")


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
        "flows", help="check and try IVR/bot flows (validate DIR, simulate FLOW, schema)", add_help=False
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
    fill.add_argument("--from", dest="first", help="first UTC day YYYY-MM-DD (default: 90 days before --to)")
    fill.add_argument("--to", dest="last", help="last UTC day YYYY-MM-DD (default: today)")
    for name in ("data_dir", "redis_url", "service_level_seconds", "rollup_retention_days"):
        one = BY_NAME[name]
        fill.add_argument(one.flag, dest=name, default=None, help=f"as for serve ({one.env})")

    agents = sub.add_parser("agents", help="manage the agents file")
    agents_sub = agents.add_subparsers(dest="agents_command", required=True)
    add = agents_sub.add_parser("add", help="add an agent (asks for the password, stores only its hash)")
    add.add_argument("agent_id")
    add.add_argument("--name", help="display name (default: the id)")
    add.add_argument("--capacity", type=int, default=3, help="concurrent chats (default 3)")
    add.add_argument("--supervisor", action="store_true", help="give the supervisor role")
    add.add_argument("--skills", help="comma-separated skills with optional levels 1-10, e.g. billing:5,spanish")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--file", default=None, help="agents file (default DATA_DIR/agents.toml)")
    passwd = agents_sub.add_parser("passwd", help="set an agent's password (a running gateway ends their sessions)")
    passwd.add_argument("agent_id")
    passwd.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    passwd.add_argument("--file", default=None, help="agents file (default DATA_DIR/agents.toml)")
    remove = agents_sub.add_parser("remove", help="remove an agent (a running gateway ends their sessions)")
    remove.add_argument("agent_id")
    remove.add_argument("--file", default=None, help="agents file (default DATA_DIR/agents.toml)")
    check = agents_sub.add_parser("check", help="validate an agents file")
    check.add_argument("--file", default=None, help="agents file (default DATA_DIR/agents.toml)")
    return parser


def banner(settings: Settings, password: str | None) -> str:
    """What a person who just started the gateway in a terminal needs: where to go, and how to sign in."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    base = f"http://{'[' + host + ']' if ':' in host else host}:{settings.port}"
    sign_in = (
        f"sign in as demo / {password}" if password is not None else f"agents and passwords: {settings.agents_path}"
    )
    lines = [
        "",
        "  Contact gateway is running.",
        f"    Customer demo   {base}/",
        f"    Agent desk      {base}/agent   ({sign_in})",
    ]
    if password is not None:
        lines.append(f"    Change it       contact-gateway agents passwd demo --file {settings.agents_path}")
    lines += ["    Stop            Ctrl+C", ""]
    return "\n".join(lines)


async def _serve(settings_flags: dict[str, str | None]) -> None:
    from gateway.app import create_app
    from gateway.runtime import first_run

    settings = from_sources(settings_flags, os.environ)
    logs.setup(settings.log_format)
    for each in SETTINGS:
        if each.secret and settings_flags.get(each.name) is not None:
            log.warning(
                "--%s on the command line is visible to every local user (ps, /proc); prefer the "
                "environment variable %s",
                each.flag[2:],
                each.env,
            )
    password = first_run(settings)  # before start-up, so that the banner can show the demo password
    app = create_app(settings)
    runner = web.AppRunner(app, shutdown_timeout=5, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    log.info("listening on http://%s:%s (customer demo at /, agent desk at /agent)", settings.host, settings.port)
    if sys.stderr.isatty():  # a person started it; a log collector gets the JSON lines only
        print(banner(settings, password), file=sys.stderr, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("shutting down")
    await runner.cleanup()


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
    if len(password) < 8:
        print("password must have at least 8 characters", file=sys.stderr)
        return None
    return password


def _backfill(args: argparse.Namespace) -> int:
    from gateway.runtime import run_backfill

    names = ("data_dir", "redis_url", "service_level_seconds", "rollup_retention_days")
    settings = from_sources({n: getattr(args, n) for n in names if getattr(args, n) is not None}, os.environ)
    try:
        last = date.fromisoformat(args.last) if args.last else datetime.now(UTC).date()
        first = date.fromisoformat(args.first) if args.first else last - timedelta(days=89)
    except ValueError as exc:
        raise ConfigError(f"--from / --to: {exc}", field="from") from None
    if last < first:
        raise ConfigError("--to is before --from", field="to")
    counted = asyncio.run(run_backfill(settings, first, last))
    print(f"report counters of {first} .. {last} rebuilt from {counted} events")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["flows"]:  # the flow tools have their own parser (ivr.cli), checked with our recognizer
        from ivr.cli import main as flows_main

        return flows_main(argv[1:], check=_speech_check())
    if argv[:1] == ["models"]:  # so has the model tool (media.asr.cli)
        from media.asr.cli import main as models_main

        return models_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            asyncio.run(_serve(flag_values(args)))
        elif args.command == "reports":
            return _backfill(args)
        elif args.agents_command in ("add", "passwd"):
            password = _read_password(args.agent_id, args.password_stdin)
            if password is None:
                return 2
            path = _agents_file(args.file)
            if args.agents_command == "passwd":
                set_password(path, args.agent_id, password)
                print(f"new password for '{args.agent_id}' in {path}; a running gateway ends their sessions")
                return 0
            private_mkdir(path.parent)  # usually the data directory: 0700 when it is new
            roles = ("agent", "supervisor") if args.supervisor else ("agent",)
            try:
                skills = parse_skills(args.skills or "")
            except ValueError as exc:
                raise ConfigError(str(exc), field="skills") from None
            agent = add_agent(path, args.agent_id, args.name or args.agent_id, password, args.capacity, roles, skills)
            print(f"added agent '{agent.id}' to {path}")
        elif args.agents_command == "remove":
            path = _agents_file(args.file)
            remove_agent(path, args.agent_id)
            print(f"removed agent '{args.agent_id}' from {path}; a running gateway ends their sessions")
        elif args.agents_command == "check":
            path = _agents_file(args.file)
            print(f"{path}: {len(load_agents(path))} agents, all valid")
    except GatewayError as exc:
        print(f"contact-gateway: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
