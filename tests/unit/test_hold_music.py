"""Music on hold per queue (gateway/calls/hold_music.py): which music a conversation's caller hears, that asking never
waits on a file's decoding, what a queue may name, and what happens when the file or the store fails; real files,
decoded by PyAV, encoded by libopus."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import numpy as np
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from gateway.calls import hold_music
from gateway.calls.hold_music import HoldMusic, Music, MusicFile
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


async def heard_once_ready(held: HoldMusic, **kw: object) -> Music:
    """The music a caller gets once the background decoding of their queue's file is over (bounded)."""
    async with asyncio.timeout(10):
        while True:
            got = await held.for_conversation("c", packets=True, **kw)  # type: ignore[arg-type]
            if got.name:
                return got
            await asyncio.sleep(0.02)


async def test_a_file_plays_once_decoded_in_the_background_and_a_changed_file_is_decoded_again(tmp_path: Path) -> None:
    write_wav(tmp_path / "hold.wav", tone(700, 1.5))
    held = music(tmp_path, {"billing": "hold.wav", "support": ""})
    try:
        first = await held.for_conversation("c1", packets=True)  # not decoded yet: no wait, the generated music
        assert first.name == "" and first.audio is held.generated and first.packets
        ready = await heard_once_ready(held)
        assert ready.name == "hold.wav" and ready.audio.duration == pytest.approx(1.5)
        assert ready.packets is not None and len(ready.packets) == 75  # 20 ms each, encoded once
        again = await held.for_conversation("c2", packets=False)
        assert again.audio is ready.audio and again.packets is None  # decoded once; no packets when not asked
        assert (await held.for_conversation("c3", packets=False, queue="support")).name == ""  # no music: generated
        write_wav(tmp_path / "hold.wav", tone(700, 2.5))  # replaced (a new file: another inode, size and time)
        os.utime(tmp_path / "hold.wav", ns=(1, 10**18))
        assert (await heard_once_ready(held)).audio.duration == pytest.approx(2.5)
        assert len(held._files) == 1  # the old version is not kept beside it
    finally:
        await held.close()


async def test_without_a_queue_or_its_file_or_a_store_the_caller_hears_the_generated_music(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "broken.wav").write_bytes(b"RIFF and nothing after")
    held = music(tmp_path, {"billing": "broken.wav", "support": "gone.ogg"})
    try:
        for _ in range(20):
            assert (await held.for_conversation("c1", packets=False)).audio is held.generated
            await asyncio.sleep(0.02)
        assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
            "music on hold broken.wav cannot be played"
        ]  # once per file, not at every caller
        assert (await held.for_conversation("c1", packets=False, queue="support")).name == ""
        assert (await held.for_conversation("c1", packets=False, queue="nowhere")).name == ""
        assert (await music(tmp_path, {}, waiting_in="").for_conversation("c1", packets=False)).name == ""
    finally:
        await held.close()

    async def down(_: str) -> str | None:
        raise RedisConnectionError("Connection refused")

    outage = HoldMusic(OpusPrompts(), flows_dir=tmp_path, queue_of=down, music_of=down)
    heard = await outage.for_conversation("c1", packets=True)
    assert heard.audio is outage.generated and heard.packets  # music, encoded, all the same


async def test_a_queue_may_name_a_file_of_the_flows_directory_that_decodes_and_loops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    write_wav(flows / "hold.wav", tone(700, 1.5))
    write_wav(flows / "blip.wav", tone(700, 0.2))
    write_wav(tmp_path / "outside.wav", tone(700, 1.5))
    (flows / "escape.wav").symlink_to(tmp_path / "outside.wav")
    (flows / "yaml.wav").symlink_to(flows / "default.yaml")
    (flows / "loop.wav").symlink_to(flows / "loop.wav")
    (flows / "notes.wav").write_text("no sound here")
    (flows / "default.yaml").write_text("name: default\n")
    (flows / "dir.ogg").mkdir()
    write_wav(flows / "Hold Music.wav", tone(700, 1.5))  # a name a queue cannot store
    held = music(flows, {"billing": "hold.wav"})
    try:
        assert await held.check("") is None and await held.check("hold.wav") is None
        assert (await held.for_conversation("c", packets=False)).name == "hold.wav"  # the check made it ready
        assert await held.check("gone.wav") == "there is no file 'gone.wav' in the flows directory"
        assert await held.check("escape.wav") == "'escape.wav' is not an audio file of the flows directory"
        assert await held.check("yaml.wav") == "'yaml.wav' is not an audio file of the flows directory"
        assert await held.check("loop.wav") == "there is no file 'loop.wav' in the flows directory"
        assert await held.check("dir.ogg") == "'dir.ogg' in the flows directory is not a file"
        assert await held.check("Hold Music.wav") == (
            "'Hold Music.wav' is not a music file name (letters, digits, _ . - and .wav, .mp3 or .ogg)"
        )
        assert await held.check("blip.wav") == (
            "'blip.wav' lasts 0.2 s: music on hold loops, so it must last a second at least"
        )
        assert str(flows) not in (await held.check("notes.wav") or str(flows))  # refused, without the server's path
        monkeypatch.setattr(hold_music, "MAX_MUSIC_SECONDS", 1)
        assert await held.check("hold.wav") == "'hold.wav' lasts more than 1 s: music on hold is at most that"
        write_wav(flows / "long.wav", tone(700, 1.5))
        grown = music(flows, {"billing": "long.wav"})  # a file that grew after its queue named it: its first second
        assert (await heard_once_ready(grown)).audio.duration == pytest.approx(1.0)
        await grown.close()
        assert held.files() == [  # what a queue may name: no links, no names it cannot store
            MusicFile("blip.wav", (flows / "blip.wav").stat().st_size),
            MusicFile("hold.wav", (flows / "hold.wav").stat().st_size),
            MusicFile("long.wav", (flows / "long.wav").stat().st_size),
            MusicFile("notes.wav", len("no sound here")),
        ]
    finally:
        await held.close()
