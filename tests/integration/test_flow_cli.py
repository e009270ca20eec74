"""``contact-gateway flows replay | push | pull`` as CI runs them, in a process of their own, against the store of a
real node (the same --redis-url): replay a draft file over real chats (exit 1 when paths change), push it (the node
serves it at once), pull the live versions back into files."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import replace
from pathlib import Path

from gateway.config import Settings
from tests.conftest import bounded
from tests.integration.test_flow_versions import ORIGINAL, SUPPORT_TO_GOODBYE, _chat
from tests.support.servers import start_node

ROOT = Path(__file__).parents[2]


async def _cli(*args: str) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VOSK_MODEL": "none"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "flows",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_replay_push_and_pull_from_the_command_line(settings: Settings, tmp_path: Path) -> None:
    node = await start_node(replace(settings, chat_flow="default"))
    try:
        took_support = await _chat(node.url, "support")
        await _chat(node.url, "billing")
        url = ["--redis-url", str(settings.redis_url)]
        draft = tmp_path / "review" / "default.yaml"
        draft.parent.mkdir()
        draft.write_text(SUPPORT_TO_GOODBYE)

        code, out, _ = await _cli(*url, "replay", "default", "--file", str(draft), "--since", "1h")
        assert code == 1, out
        assert out.splitlines()[0].endswith(
            "2 sessions of flow default replayed against " + str(draft) + ": 1 same, 1 differ"
        )
        assert out.splitlines()[1] == f"  {took_support}: hello > menu > support  =>  hello > menu > goodbye"
        code, out, _ = await _cli(*url, "replay", "default", "--version", node.services.flows.get("default").version)
        assert (code, out.splitlines()[0].split(": ")[-1]) == (0, "2 same, 0 differ")

        code, out, err = await _cli(*url, "push", str(draft.parent), "-m", "support goes to goodbye")
        assert code == 0, err
        pushed = out.strip().split()[-1]
        assert out.strip() == f"default: published {pushed}"
        for _ in range(100):
            if node.services.flows.get("default").version == pushed:
                break
            await asyncio.sleep(0.05)
        assert node.services.flows.get("default").version == pushed
        code, out, _ = await _cli(*url, "push", str(draft.parent))
        assert (code, out.strip()) == (0, f"default: unchanged {pushed}")

        pulled = tmp_path / "pulled"
        # the store's flags after the sub-command too, as `agents` and `reports` take them (an operator's finding)
        code, out, err = await _cli("pull", str(pulled), *url)
        assert code == 0, err
        assert (pulled / "default.yaml").read_text() == SUPPORT_TO_GOODBYE
        assert sorted(p.name for p in pulled.iterdir()) == ["callback.yaml", "default.yaml", "transcribed.yaml"]
        assert ORIGINAL != SUPPORT_TO_GOODBYE
    finally:
        await bounded(node.stop(), "stopping the node")


async def test_a_pulled_flow_brings_its_audio_files_and_validates(tmp_path: Path) -> None:
    """The store holds flow texts only: the shipped flow pulled without sounds/chime.wav could neither be validated
    nor pushed back (an operator's finding). Pull copies the audio files a flow names from the node's flows
    directory (here the shipped one)."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    shipped = ROOT / "ivr" / "flows"
    code, out, err = await _cli("push", str(shipped), "--data-dir", str(data), "-m", "first")
    assert code == 0, err
    pulled = tmp_path / "pulled"
    code, out, err = await _cli("pull", str(pulled), "--data-dir", str(data))
    assert code == 0, err
    assert "sounds/chime.wav: copied" in out, out
    assert (pulled / "sounds" / "chime.wav").read_bytes() == (shipped / "sounds" / "chime.wav").read_bytes()
    code, out, err = await _cli("validate", str(pulled))
    assert code == 0, out + err
