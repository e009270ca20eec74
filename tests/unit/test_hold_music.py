"""Music on hold per queue (gateway/calls/hold_music.py): which music a conversation's caller hears, what a queue may
name, and what happens when the file or the store fails; real files, decoded by PyAV, encoded by libopus."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.calls import hold_music
from gateway.calls.hold_music import HoldMusic, MusicFile
from media.audio import Audio
from media.audiofile import write_wav
from media.opus import OpusPrompts

RATE = 48000


def tone(hz: float, seconds: float) -> Audio:
    t = np.arange(int(seconds * RATE)) / RATE
    return Audio((np.sin(2 * np.pi * hz * t) * 8000).astype(np.int16), RATE)


def music(flows: Path, queues: dict[str, str], *, waiting_in: str = "billing") -> HoldMusic:
    async def queue_of(cid: str) -> str | None:
        return waiting_in

    async def music_of(name: str) -> str | None:
        return queues.get(name)

    return HoldMusic(OpusPrompts(), flows_dir=flows, queue_of=queue_of, music_of=music_of)


async def test_the_queue_s_file_plays_and_a_changed_file_is_decoded_again(tmp_path: Path) -> None:
    write_wav(tmp_path / "hold.wav", tone(700, 1.5))
    held = music(tmp_path, {"billing": "hold.wav", "support": ""})
    first = await held.for_conversation("c1", packets=True)
    assert first.name == "hold.wav" and first.audio.duration == pytest.approx(1.5)
    assert first.packets is not None and len(first.packets) == 75  # 20 ms each
    assert (await held.for_conversation("c2", packets=False)).audio is first.audio  # decoded once
    assert (await held.for_conversation("c3", packets=False, queue="support")).name == ""  # generated
    write_wav(tmp_path / "hold.wav", tone(700, 2.5))
    os.utime(tmp_path / "hold.wav", ns=(1, 10**18))  # a new time, whatever the clock's resolution
    assert (await held.for_conversation("c4", packets=False)).audio.duration == pytest.approx(2.5)


async def test_without_a_queue_or_its_file_or_a_store_the_caller_hears_the_generated_music(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "broken.wav").write_bytes(b"RIFF and nothing after")
    held = music(tmp_path, {"billing": "broken.wav", "support": "gone.ogg"})
    for _ in range(3):
        assert (await held.for_conversation("c1", packets=False)).audio is held.default.audio
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "music on hold broken.wav cannot be played"
    ]  # once per file, not at every caller
    assert (await held.for_conversation("c1", packets=False, queue="support")).name == ""
    assert (await held.for_conversation("c1", packets=False, queue="nowhere")).name == ""
    assert (await music(tmp_path, {}, waiting_in="").for_conversation("c1", packets=False)).name == ""

    async def down(_: str) -> str | None:
        raise RedisConnectionError("Connection refused")

    outage = HoldMusic(OpusPrompts(), flows_dir=tmp_path, queue_of=down, music_of=down)
    heard = await outage.for_conversation("c1", packets=True)
    assert heard.audio is outage.default.audio and heard.packets  # music, encoded, all the same


async def test_a_queue_may_name_a_file_of_the_flows_directory_that_decodes_and_loops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    write_wav(flows / "hold.wav", tone(700, 1.5))
    write_wav(flows / "blip.wav", tone(700, 0.2))
    write_wav(tmp_path / "outside.wav", tone(700, 1.5))
    (flows / "escape.wav").symlink_to(tmp_path / "outside.wav")
    (flows / "notes.wav").write_text("no sound here")
    (flows / "default.yaml").write_text("name: default\n")
    (flows / "dir.ogg").mkdir()
    held = music(flows, {})
    assert await held.check("") is None and await held.check("hold.wav") is None
    assert await held.check("gone.wav") == "there is no file 'gone.wav' in the flows directory"
    assert await held.check("escape.wav") == "'escape.wav' is not an audio file of the flows directory"
    assert await held.check("dir.ogg") == "'dir.ogg' in the flows directory is not a file"
    assert (
        await held.check("blip.wav") == "'blip.wav' lasts 0.2 s: music on hold loops, so it must last a second at least"
    )
    assert str(flows) not in (await held.check("notes.wav") or str(flows))  # refused, without the server's path
    monkeypatch.setattr(hold_music, "MAX_MUSIC_SECONDS", 1)
    assert await held.check("hold.wav") == "'hold.wav' lasts 2 s: music on hold is at most 1 s"
    grown = music(flows, {"billing": "hold.wav"})  # a file that grew after its queue named it plays its first second
    assert (await grown.for_conversation("c1", packets=False)).audio.duration == pytest.approx(1.0)
    assert held.files() == [
        MusicFile("blip.wav", (flows / "blip.wav").stat().st_size),
        MusicFile("hold.wav", (flows / "hold.wav").stat().st_size),
        MusicFile("notes.wav", len("no sound here")),
    ]
