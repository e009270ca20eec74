"""Log lines carry the ids (agent, conversation, customer) in both formats, so an admin sees who did what."""

from __future__ import annotations

import io
import json
import logging

from gateway.logs import JsonFormatter, TextFormatter


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
