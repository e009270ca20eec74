"""``contact-gateway flows replay | push | pull`` as CI runs them, in a process of their own, against the store of a
real node (the same --redis-url): replay a draft file over real chats (exit 1 when paths change), push it (the node
serves it at once), pull the live versions back into files."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import replace
from getpass import getuser
from pathlib import Path

from gateway.config import Settings
from ivr.hours import parse_schedule
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
        broken = tmp_path / "draft-of-default.yaml"  # errors name the file read (they named default.yaml beside it)
        broken.write_text("start: nowhere\nnodes: {}\n")
        code, _, err = await _cli(*url, "replay", "default", "--file", str(broken))
        assert code == 2 and err.startswith(f"{broken}:"), err
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
        # recorded as a console publish is (a rollback pushed from CI left no trace: a newcomer's finding)
        audit = await node.services.audit.entries(target="flow:default")
        assert [(e["action"], e["actor"]) for e in audit["entries"]][:1] == [("flow.publish", f"cli:{getuser()}")]

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


async def test_a_push_is_checked_against_the_store_as_a_publish_is(settings: Settings, tmp_path: Path) -> None:
    """A folder holding one flow whose goto leads into a flow live in the store (not in the folder) was refused by
    the folder's own check; a flow naming a queue that does not exist was pushed although the console refuses it
    (a newcomer's findings)."""
    node = await start_node(settings)
    try:
        url = ["--redis-url", str(settings.redis_url)]
        folder = tmp_path / "one"
        folder.mkdir()
        (folder / "entry.yaml").write_text("start: hello\nnodes:\n  hello:\n    type: goto\n    flow: callback\n")
        code, out, err = await _cli(*url, "push", str(folder))
        assert code == 0, out + err
        assert out.startswith("entry: published "), out
        (folder / "typo.yaml").write_text("start: q\nnodes:\n  q:\n    type: queue\n    queue: biling\n")
        code, out, err = await _cli(*url, "push", str(folder))
        assert code == 2, out + err
        assert "typo: refused" in out and "queue 'biling' does not exist (did you mean 'billing'?)" in out, out
        assert "not published" not in err, err  # said once, not again as a log line
        assert "typo" not in await node.services.flows.store.live()
    finally:
        await bounded(node.stop(), "stopping the node")


async def test_simulate_reads_the_queues_opening_hours_from_the_store(settings: Settings, tmp_path: Path) -> None:
    """The simulator took a queue closed now as open, where a call took the closed branch (a newcomer's finding)."""
    node = await start_node(settings)
    try:
        queues = node.services.queues
        billing = await queues.get("billing")
        assert billing is not None
        hours = {"timezone": "UTC", "schedule": {"mon": "09:00-09:01"}}  # closed at the --now below
        schedule = parse_schedule(hours["timezone"], hours["schedule"], None, lines={})
        await queues.put(replace(billing, hours=hours, schedule=schedule))
        (tmp_path / "when.yaml").write_text(
            "start: when\nnodes:\n  when:\n    type: hours\n    queue: billing\n    open: opened\n"
            "    closed: shut\n  opened:\n    type: hangup\n  shut:\n    type: hangup\n"
        )
        flow = str(tmp_path / "when.yaml")
        now = ["--now", "2026-03-04T10:00+00:00"]
        code, out, err = await _cli("simulate", flow, *now, "--redis-url", str(settings.redis_url))
        assert code == 0, out + err
        assert "hours: closed (queue billing, " in out and "-> shut" in out, out
        code, out, err = await _cli("simulate", flow, *now)
        assert "billing's opening hours are not known here: taken as open) -> opened" in out, out + err
    finally:
        await bounded(node.stop(), "stopping the node")


async def test_simulate_with_a_store_it_cannot_reach_says_so_in_one_line(tmp_path: Path) -> None:
    """A 29-frame traceback before (a review)."""
    flow = str(ROOT / "tests" / "flows" / "default.yaml")
    code, out, err = await _cli("simulate", flow, "--redis-url", "redis://127.0.0.1:1")
    assert (code, err.strip().splitlines()[-1].startswith("contact-gateway: Redis not reachable")) == (1, True), err
    assert "Traceback" not in err
    code, out, err = await _cli("simulate", flow, "--redis-url", "http://x")
    assert code == 2 and err.strip().endswith(
        "\ncontact-gateway: --redis-url must start with redis://, rediss:// or unix://"
    )
    assert "Traceback" not in err
