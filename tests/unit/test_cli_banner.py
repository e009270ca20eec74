"""The first start's banner: every page a person who just started the gateway goes to, and how to sign in.

A user test as a new admin found the banner (and the "listening" log line) naming only the demo shop and the agent
desk: the admin console, where agents, queues, flows and the widget are set up, was nowhere on the first screen.
"""

from __future__ import annotations

from pathlib import Path

from gateway.cli import banner
from gateway.config import from_sources


def test_the_banner_names_the_admin_console_the_wallboard_and_the_reports(tmp_path: Path) -> None:
    settings = from_sources({"port": "18080", "data_dir": str(tmp_path)}, {})
    text = banner(settings, "s3cret-pass-word")
    for line in (
        "Customer demo   http://127.0.0.1:18080/",
        "Agent desk      http://127.0.0.1:18080/agent   (sign in as demo / s3cret-pass-word)",
        "Admin console   http://127.0.0.1:18080/admin",
        "Wallboard       http://127.0.0.1:18080/supervisor",
        "http://127.0.0.1:18080/supervisor/reports",
    ):
        assert line in text, (line, text)
