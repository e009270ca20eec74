"""Shared helpers of the interpreter tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent

from ivr.loader import parse_flow
from ivr.model import Flow

NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)


def flow_of(text_: str, name: str = "test") -> Flow:
    return parse_flow(dedent(text_), Path(f"/flows/{name}.yaml"))


def without_prompt_steps(transcript: list[str]) -> list[str]:
    """The transcript without 'step prompt' lines (each duplicates the say line after it)."""
    return [line for line in transcript if not line.startswith("step prompt ")]
