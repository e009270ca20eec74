"""Log lines carry the ids (agent, conversation, customer) in both formats, so an admin sees who did what."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest
from aiohttp import web

from gateway.logs import JsonFormatter, TextFormatter, quiet_clients_bad_requests, setup


def _line(formatter: logging.Formatter, **extra: str) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    log = logging.getLogger(f"test-logs-{id(formatter)}")
    log.propagate = False
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("failed login from %s", "192.0.2.7", extra=extra)
    finally:
        log.removeHandler(handler)
    return out.getvalue().strip()


def test_text_lines_name_the_agent_like_json_lines_do() -> None:
    assert _line(TextFormatter(), agent_id="demo").endswith("failed login from 192.0.2.7 [agent_id=demo]")
    assert json.loads(_line(JsonFormatter(), agent_id="demo"))["agent_id"] == "demo"
    assert _line(TextFormatter()).endswith("failed login from 192.0.2.7")


async def test_a_request_aiohttp_cannot_parse_is_one_info_line_not_an_error_with_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A real aiohttp server on loopback gets a header holding a NUL byte (what a fuzzer or a scanner sends): it
    answers 400, and the log says so in one INFO line; a handler's own failure is still an ERROR with its trace."""

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup("json")
    quiet_clients_bad_requests()  # as gateway/app.py does
    app = web.Application()
    app.router.add_get("/broken", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        for request in (
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Probe: \x00\r\n\r\n",
            b"GET /broken HTTP/1.1\r\nHost: x\r\n\r\n",
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            status = await reader.readline()
            writer.close()
            assert status.split()[1] in (b"400", b"500"), status
        await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    server = [line for line in lines if line["logger"] == "aiohttp.server"]
    assert len(server) == 2, lines
    bad_request, bug = server
    assert bad_request["level"] == "info" and "exc" not in bad_request, bad_request
    assert bad_request["msg"].startswith(
        "a request from 127.0.0.1 that could not be parsed, answered 400: Invalid header"
    )
    assert bug["level"] == "error" and "RuntimeError: a bug" in bug["exc"], bug


def test_a_workers_lines_carry_its_number_and_its_node(capsys: pytest.CaptureFixture[str]) -> None:
    """Only one of a worker's lines named its node: a takeover line or /readyz's node id could not be tied to a
    worker's lines (an operator's finding). A line about another node keeps that one."""
    root = logging.getLogger()
    before, level = root.handlers[:], root.level
    try:
        setup("json", worker=1, node="node-7-abc")
        logging.getLogger("gateway.contact.presence").info("agent is available", extra={"agent_id": "erin"})
        logging.getLogger("gateway.calls.takeover").warning("took over", extra={"node": "node-9-def"})
    finally:
        root.handlers[:] = before
        root.setLevel(level)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(x["worker"], x["node"]) for x in lines] == [(1, "node-7-abc"), (1, "node-9-def")]


def test_a_warning_said_again_and_again_is_written_once_per_window_with_its_count() -> None:
    """A Redis outage: each background loop said the same warning every second (an operator's finding)."""
    from gateway.logs import REPEAT_WINDOW, _Repeats

    repeats = _Repeats()

    def said(msg: str, at: float, level: int = logging.WARNING, **extra: str) -> str | None:
        record = logging.LogRecord("gateway.x", level, __file__, 1, msg, None, None)
        record.created = at
        for key, value in extra.items():
            setattr(record, key, value)
        return record.getMessage() if repeats.filter(record) else None

    assert said("Redis: Error 111", 0.0) == "Redis: Error 111"
    assert [said("Redis: Error 111", t) for t in (1.0, 2.0, 3.0)] == [None, None, None]
    assert said("Redis: Error 111", 5.0, conversation_id="c1") == "Redis: Error 111"  # another call's: its own
    assert said("agent is available", 6.0, logging.INFO) == "agent is available"  # not a warning: always
    assert said("Redis: Error 111", 1.0 + REPEAT_WINDOW) == "Redis: Error 111 (said 3 more times in the last 31 s)"
    assert said("Redis: Error 111", 2.0 + REPEAT_WINDOW) is None
