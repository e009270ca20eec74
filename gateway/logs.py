"""Structured logging: one JSON object per line, with conversation and agent ids when known.

Use ``log.info("message stored", extra={"conversation_id": cid})``; the keys in
:data:`CONTEXT_KEYS` become fields of the line.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from aiohttp.http_exceptions import HttpProcessingError

CONTEXT_KEYS = ("conversation_id", "agent_id", "customer_id", "node", "code", "worker")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in CONTEXT_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A readable line, with the same ids as the JSON lines (who failed to log in, which conversation)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(
            f"{key}={getattr(record, key)}" for key in CONTEXT_KEYS if getattr(record, key, None) is not None
        )
        line = super().format(record)
        if not ids:
            return line
        head, newline, rest = line.partition("\n")  # a traceback stays below the ids
        return f"{head} [{ids}]{newline}{rest}"


#: a warning said again within this many seconds (the same logger, text and ids) is counted, not written
REPEAT_WINDOW = 30.0
_REPEATS_KEPT = 2000


class _Repeats(logging.Filter):
    """A warning or an error written once per :data:`REPEAT_WINDOW` seconds: the same logger, level, text and ids
    again meanwhile is counted, and the next one written after the window says how many were left out. A Redis
    outage made every background loop of a node say the same thing each second (an idle node: about 160 warnings
    in 21 s from 10 loops: an operator's finding); different calls or agents differ by their ids, and stay."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[tuple[object, ...], list[float]] = {}  # key -> [when last written, left out since]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        text = record.getMessage()
        key = (record.name, record.levelno, text, *(getattr(record, k, None) for k in CONTEXT_KEYS))
        seen = self._seen.get(key)
        if seen is not None and record.created - seen[0] < REPEAT_WINDOW:
            seen[1] += 1
            return False
        if seen is not None and seen[1]:
            record.msg, record.args = (
                f"{text} (said {int(seen[1])} more times in the last {int(record.created - seen[0])} s)",
                None,
            )
        if len(self._seen) >= _REPEATS_KEPT:
            self._seen.clear()  # (bounded: a flood of different lines forgets the old ones)
        self._seen[key] = [record.created, 0]
        return True


class _Worker(logging.Filter):
    """Marks every line with the worker that wrote it (``serve --workers N``: gateway/workers.py) and its node id
    (a takeover's "node node-... lost its heartbeat" or /readyz's node named a node no worker's lines carried: an
    operator's finding); a line that names another node (a takeover's) keeps it."""

    def __init__(self, number: int, node: str = "") -> None:
        super().__init__()
        self.number = number
        self.node = node

    def filter(self, record: logging.LogRecord) -> bool:
        record.worker = self.number
        if self.node and not hasattr(record, "node"):
            record.node = self.node
        return True


class _ClientsBadRequests(logging.Filter):
    """aiohttp logs a request it could not parse (a header with a NUL, a line too long: the client's mistake,
    answered 400) at ERROR with a traceback; anybody on the internet can send one, so it is one INFO line here."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = "a request from %s that could not be parsed, answered %s: %s"
            record.args = (remote, exc.code, " ".join(str(exc.message).split())[:200])
            record.exc_info = record.exc_text = None
        return True


def setup(fmt: str = "json", level: int = logging.INFO, *, worker: int | None = None, node: str = "") -> None:
    """Log to standard error as ``json`` lines, ``text``, or ``auto``: text on a terminal (a person reads it),
    JSON otherwise (a log collector does). ``worker``: every line says this worker number and ``node`` id."""
    handler = logging.StreamHandler(sys.stderr)
    if worker is not None:
        handler.addFilter(_Worker(worker, node))
    handler.addFilter(_Repeats())
    if fmt == "auto":
        fmt = "text" if sys.stderr.isatty() else "json"
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def quiet_clients_bad_requests() -> None:
    """Log a request aiohttp could not parse as one INFO line (:class:`_ClientsBadRequests`); once per process,
    by whatever builds an application that serves HTTP."""
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _ClientsBadRequests) for f in server.filters):
        server.addFilter(_ClientsBadRequests())
