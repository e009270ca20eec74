"""``models list | install NAME [--url URL] [--sha256 HEX] | path NAME``: the Vosk model tool.

The gateway's CLI hands ``contact-gateway models ...`` to :func:`main`;
``python -m media.asr models ...`` works too. Exit status 0, or 2 with the
error's message on standard error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from media.asr.errors import AsrError
from media.asr.models import CATALOGUE, CATALOGUE_URL, ProgressBar, install, list_installed, resolve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="models", description="List, install and locate Vosk speech models.")
    data_help = "data directory; models go to DATA_DIR/models [env CG_DATA_DIR] (default ./data)"
    parser.add_argument("--data-dir", dest="data_dir", default=None, help=data_help)
    # the same flag after the sub-command too, as `agents` and `flows` take it (`models list --data-dir X` was
    # refused: a newcomer's finding)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS, help=data_help)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", parents=[common], help="installed models, then the official models this tool knows by name")
    add = sub.add_parser(
        "install", parents=[common], help="download, verify and unpack a model (resumes an interrupted download)"
    )
    add.add_argument("name")
    add.add_argument("--url", help="download from this URL instead of alphacephei.com")
    add.add_argument("--sha256", help="expected SHA-256 of the zip")
    add.add_argument("--no-catalogue", action="store_true", help="do not fetch the official list for checksums")
    path = sub.add_parser(
        "path", parents=[common], help="print the directory of an installed model (or check a model path)"
    )
    path.add_argument("name")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    data_dir = Path(args.data_dir or os.environ.get("CG_DATA_DIR") or "data")
    try:
        if args.command == "list":
            installed = list_installed(data_dir)
            print(
                f"installed in {data_dir / 'models'}:" if installed else f"nothing installed in {data_dir / 'models'}"
            )
            for m in installed:
                print(f"  {m.name:36s} {m.size_bytes / 1e6:8.1f} MB  {m.path}")
            print("available by name:")
            for e in CATALOGUE.values():
                mark = "*" if any(m.name == e.name for m in installed) else " "
                print(f" {mark}{e.name:36s} {e.language:3s} about {e.approx_mb} MB  {e.notes}")
        elif args.command == "install":
            where = install(
                args.name,
                data_dir,
                url=args.url,
                sha256=args.sha256,
                catalogue_url=None if args.no_catalogue else CATALOGUE_URL,
                progress=ProgressBar(),
            )
            print(where)
        elif args.command == "path":
            print(resolve(args.name, data_dir))
    except AsrError as exc:
        print(f"models: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
