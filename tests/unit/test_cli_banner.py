"""The first start's banner: every page a person who just started the gateway goes to, and how to sign in.

A user test as a new admin found the banner (and the "listening" log line) naming only the demo shop and the agent
desk: the admin console, where agents, queues, flows and the widget are set up, was nowhere on the first screen.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

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


def test_the_password_command_is_one_a_shell_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """./bin/gateway runs .venv/bin/contact-gateway, which is on no PATH: the banner's command names its path."""
    venv_bin = tmp_path / "venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "contact-gateway").write_text("#!/bin/sh\n", encoding="utf-8")
    monkeypatch.setattr(sys, "executable", str(venv_bin / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    settings = from_sources({"data_dir": str(tmp_path / "data")}, {})
    assert f"{venv_bin / 'contact-gateway'} agents passwd demo --data-dir " in banner(settings, "pw")
    monkeypatch.setenv("PATH", str(venv_bin))  # on PATH (an activated venv, a pip install): its name is enough
    (venv_bin / "contact-gateway").chmod(0o755)
    assert "Change it       contact-gateway agents passwd demo --data-dir " in banner(settings, "pw")
