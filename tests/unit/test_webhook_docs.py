"""docs/webhooks.md says what the event webhooks do now: every setting of theirs, where admins come from."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.config import SETTINGS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text(encoding="utf-8")
EVENT_WEBHOOK_SETTINGS = ("webhooks_file", "webhook_retry_hours", "webhook_attempts", "webhook_outbox_max")


def test_every_event_webhook_setting_is_documented_and_no_flag_that_is_gone() -> None:
    flags = {s.flag for s in SETTINGS}
    for name in (*EVENT_WEBHOOK_SETTINGS, "webhook_max_backoff_seconds", "webhook_allow"):
        flag = next(s.flag for s in SETTINGS if s.name == name)
        assert flag in DOC, flag
    assert set(re.findall(r"--webhooks?-[a-z-]+", DOC)) <= flags


def test_admins_are_agents_in_redis_and_delete_says_what_happens_to_queued_events() -> None:
    assert "agents file" not in DOC  # agents live in Redis (gateway/contact/agents.py)
    delete = next(line for line in DOC.splitlines() if line.startswith("| `DELETE /api/webhooks/{id}`"))
    assert "nothing queued for it is sent" in delete and "comes due" in delete
