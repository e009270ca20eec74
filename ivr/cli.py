"""``contact-gateway flows ...``: validate flow files, simulate a flow, print the JSON Schema.

``main(argv)`` returns the exit status: 0 when all is well, 2 when a flow has
errors (each printed as ``file:line: node 'x': message``) or the command line
is wrong, 1 when a simulated flow ended in an error. ``check`` adds the
caller's own validation to ``validate`` (the gateway passes its speech
recognizer's check, so unknown words are reported here too).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from .errors import FlowError
from .hours import Schedule
from .loader import FLOW_SUFFIXES, load_dir
from .model import Channel, Flow
from .schema import SCHEMA_PATH, schema_json
from .simulator import simulate

SHIPPED_FLOWS = Path(__file__).with_name("flows")


def build_parser(others: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """``others``: commands the caller runs itself (the gateway's ``push``, ``pull``, ``replay``), by help text:
    listed with these (they were only in a note at the end: a newcomer's finding), never run here."""
    parser = argparse.ArgumentParser(
        prog="contact-gateway flows",
        description="IVR and chat-bot flows.",
        epilog="The gateway's store of flow versions: `contact-gateway flows push DIR`, `pull DIR` and "
        "`replay NAME` (each with --data-dir / --redis-url as serve; `flows push --help`).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    validate = sub.add_parser(
        "validate",
        help="check flow files; exit 2 on errors",
        description="Check every flow of the directories (and files) given, including "
        "goto references between flows. Prints one line per error. It reads no gateway: that the "
        "queues a flow names exist, and gotos into flows live in the gateway but not in these "
        "directories, are checked by `flows push` and the console's publish.",
    )
    validate.add_argument("paths", nargs="+", metavar="DIR", help="a flows directory, or a flow file")
    sim = sub.add_parser(
        "simulate",
        help="talk to a flow in a text session",
        description="Run a flow in a text session: type keys (1, #123#) or words, /timeout, "
        "/webhook 200 {json}, /hangup, /quit. Input may be piped in.",
    )
    sim.add_argument("flow", metavar="FLOW", help="a flow file, or the name of a flow in --dir")
    sim.add_argument("--dir", type=Path, default=SHIPPED_FLOWS, help="flows directory (default: the shipped flows)")
    sim.add_argument("--channel", choices=[c.value for c in Channel], default=Channel.VOICE.value)
    sim.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a context variable")
    sim.add_argument("--now", help="the time, ISO 8601 with offset (default: now), e.g. 2026-03-04T10:00+01:00")
    if others:  # the gateway's store: hours nodes that name a queue read its opening hours there
        sim.add_argument("--data-dir", help="read the queues' opening hours from this gateway's store")
        sim.add_argument("--redis-url", help="read the queues' opening hours from this Redis")
    schema = sub.add_parser("schema", help="print the JSON Schema of flow files")
    schema.add_argument("--write", action="store_true", help=f"rewrite {SCHEMA_PATH.name} instead of printing it")
    for name, text in (others or {}).items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


#: reads each queue's opening hours from a store (``--data-dir`` / ``--redis-url`` of ``simulate``), or None
QueueHours = Callable[[argparse.Namespace], Mapping[str, Schedule | None] | None]


def main(
    argv: Sequence[str] | None = None,
    *,
    check: Callable[[Flow], list[FlowError]] | None = None,
    others: Mapping[str, str] | None = None,
    queue_hours: QueueHours | None = None,
) -> int:
    parser = build_parser(others)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command == "validate":
        return _validate([Path(p) for p in args.paths], check)
    if args.command == "simulate":
        return _simulate(args, queue_hours(args) if queue_hours is not None else None)
    if args.write:
        SCHEMA_PATH.write_text(schema_json(), encoding="utf-8")
        print(f"wrote {SCHEMA_PATH}")
    else:
        sys.stdout.write(schema_json())
    return 0


def _load(path: Path) -> tuple[dict[str, Flow], list[FlowError]]:
    """A directory, or one file checked together with its directory (for goto); errors of that file only."""
    if path.is_dir():
        return load_dir(path)
    if not path.is_file():
        return {}, [FlowError(str(path), None, None, "no such file or directory")]
    flows, errors = load_dir(path.parent)
    mine = [e for e in errors if Path(e.file) == path or Path(e.file).resolve() == path.resolve()]
    return {n: f for n, f in flows.items() if f.source.resolve() == path.resolve()}, mine


def _validate(paths: list[Path], check: Callable[[Flow], list[FlowError]] | None = None) -> int:
    total: dict[str, Flow] = {}
    errors: list[FlowError] = []
    for path in paths:
        flows, errs = _load(path)
        for name, flow in flows.items():
            problems = check(flow) if check is not None else []
            errs.extend(problems)
            if not problems:
                total[name] = flow
        errors.extend(sorted(errs, key=lambda e: (e.file, e.line or 0)))
    for error in errors:
        print(error)
    files = len({e.file for e in errors})
    status = f"{len(total)} flow(s) ok" + (f"; {len(errors)} error(s) in {files} file(s)" if errors else "")
    print(status, file=sys.stderr if errors else sys.stdout)
    return 2 if errors else 0


def _stdin_lines() -> Iterator[str]:
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            sys.stdout.write("> ")
            sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            return
        yield line


def _simulate(args: argparse.Namespace, queue_hours: Mapping[str, Schedule | None] | None) -> int:
    path = Path(args.flow)
    if path.suffix not in FLOW_SUFFIXES and not path.exists():
        path = args.dir / f"{args.flow}.yaml"
    flows, errors = _load(path.parent) if path.is_file() else ({}, [])
    name = path.stem
    mine = [e for e in errors if Path(e.file).stem == name]
    if mine or name not in flows:
        for error in mine or [FlowError(str(path), None, None, "no such flow file")]:
            print(error, file=sys.stderr)
        return 2
    context: dict[str, str] = {}
    for item in args.var:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"--var {item!r}: use NAME=VALUE", file=sys.stderr)
            return 2
        context[key.strip()] = value
    try:
        now = datetime.fromisoformat(args.now) if args.now else datetime.now().astimezone()
    except ValueError:
        print(f"--now {args.now!r}: use ISO 8601, e.g. 2026-03-04T10:00+01:00", file=sys.stderr)
        return 2
    if now.tzinfo is None:
        now = now.astimezone()
    done = simulate(
        flows[name],
        _stdin_lines(),
        sys.stdout,
        channel=args.channel,
        context=context,
        flows=flows,
        now=now,
        echo=not sys.stdin.isatty(),
        queue_hours=queue_hours,
    )
    return 1 if done is not None and done.reason in ("error", "loop") else 0


__all__ = ["main"]
