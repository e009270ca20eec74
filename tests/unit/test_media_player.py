"""media.player: the prompt queue, barge-in, music on hold and frame pacing."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from media.audio import Audio
from media.loopback import TrackRecorder
from media.player import (
    SAMPLES_PER_FRAME,
    PlaybackOutcome,
    PromptPlayer,
    PromptProgress,
    silence_ratio,
)


def ramp(frames: float, start: int = 1) -> Audio:
    """Distinct non-zero samples so every frame's content is recognisable."""
    n = int(frames * SAMPLES_PER_FRAME)
    return Audio(((np.arange(n) + start) % 30000 + 1).astype(np.int16), 48000)


async def pull(player: PromptPlayer, frames: int) -> np.ndarray:
    out = []
    for _ in range(frames):
        frame = await player.recv()
        out.append(frame.to_ndarray().reshape(-1))
    return np.concatenate(out)


async def test_frames_are_20ms_48k_mono_with_pts() -> None:
    player = PromptPlayer(paced=False)
    frames = [await player.recv() for _ in range(3)]
    assert [f.samples for f in frames] == [960] * 3
    assert [f.pts for f in frames] == [0, 960, 1920]
    assert {(f.sample_rate, f.format.name, f.layout.name, str(f.time_base)) for f in frames} == {
        (48000, "s16", "mono", "1/48000")
    }
    assert player.stats.frames_sent == 3


async def test_idle_player_sends_silence() -> None:
    player = PromptPlayer(paced=False)
    assert not (await pull(player, 5)).any()
    assert player.current is None


async def test_prompt_plays_exactly_then_finishes() -> None:
    player = PromptPlayer(paced=False)
    audio = ramp(2.5)  # the last frame is half padding
    done = player.play(audio, "welcome")
    out = await pull(player, 4)
    assert np.array_equal(out[: len(audio)], audio.samples)
    assert not out[len(audio) :].any()
    assert done.done() and done.result() == PlaybackOutcome.FINISHED == "finished"
    assert player.current is None


async def test_future_resolves_when_last_frame_is_sent() -> None:
    player = PromptPlayer(paced=False)
    done = player.play(ramp(2), "p")
    await pull(player, 1)
    assert not done.done()
    await pull(player, 1)
    assert done.done()


async def test_queue_plays_in_order() -> None:
    player = PromptPlayer(paced=False)
    a, b, c = ramp(1, 1), ramp(2, 5000), ramp(1, 9000)
    futures = [player.play(x, name) for x, name in ((a, "a"), (b, "b"), (c, "c"))]
    assert player.queue.pending == ["a", "b", "c"]
    out = await pull(player, 5)
    assert np.array_equal(out[: 4 * 960], np.concatenate([a.samples, b.samples, c.samples]))
    assert [f.result() for f in futures] == ["finished"] * 3


async def test_stop_is_barge_in_next_frame_silent() -> None:
    player = PromptPlayer(paced=False)
    first = player.play(ramp(50), "long")
    queued = player.play(ramp(5), "next")
    await pull(player, 10)
    progress = player.stop()
    assert progress == PromptProgress("long", played_ms=200, duration_ms=1000, looping=False)
    assert not (await pull(player, 1)).any()
    assert (first.result(), queued.result()) == ("stopped", "stopped")
    assert player.stop() is None  # idle now
    assert player.readyState == "live"  # barge-in keeps the track running


async def test_played_ms_tracks_progress() -> None:
    player = PromptPlayer(paced=False)
    player.play(ramp(100), "p")
    await pull(player, 7)
    current = player.current
    assert current is not None and (current.prompt_id, current.played_ms, current.duration_ms) == ("p", 140, 2000)


async def test_cancel_one_prompt() -> None:
    player = PromptPlayer(paced=False)
    a = player.play(ramp(1, 1), "a")
    b = player.play(ramp(1, 5000), "b")
    c = player.play(ramp(1, 9000), "c")
    assert player.cancel_prompt("b") and not player.cancel_prompt("zzz")
    out = await pull(player, 2)
    assert np.array_equal(out, np.concatenate([ramp(1, 1).samples, ramp(1, 9000).samples]))
    assert (a.result(), b.result(), c.result()) == ("finished", "stopped", "finished")


async def test_cancelling_the_future_drops_the_prompt() -> None:
    player = PromptPlayer(paced=False)
    playing = player.play(ramp(10, 1), "a")
    await pull(player, 2)
    playing.cancel()
    assert not (await pull(player, 1)).any()
    queued = player.play(ramp(1, 1), "b")
    queued.cancel()
    assert not (await pull(player, 1)).any()


async def test_loop_repeats_until_stopped() -> None:
    player = PromptPlayer(paced=False)
    music = ramp(2.5)
    held = player.loop(music)
    out = await pull(player, 10)
    expected = np.tile(music.samples, 5)[: 10 * 960]
    assert np.array_equal(out, expected)
    assert not held.done()
    progress = player.stop()
    assert progress is not None and progress.looping and progress.prompt_id == "music-on-hold"
    assert held.result() == "stopped"


async def test_tiny_loop_still_fills_frames() -> None:
    player = PromptPlayer(paced=False)
    player.loop(Audio(np.array([100, -100, 50], dtype=np.int16), 48000), "beep")
    out = await pull(player, 3)
    assert np.array_equal(out, np.tile([100, -100, 50], 960)[: 3 * 960])


async def test_prompt_after_loop_waits_for_stop() -> None:
    player = PromptPlayer(paced=False)
    player.loop(ramp(1, 1))
    after = player.play(ramp(1, 7000), "after")
    await pull(player, 5)
    assert not after.done()
    player.cancel_prompt("music-on-hold")
    out = await pull(player, 1)
    assert np.array_equal(out, ramp(1, 7000).samples)
    assert after.result() == "finished"


async def test_empty_prompt_finishes_at_once_and_bad_rate_is_refused() -> None:
    player = PromptPlayer(paced=False)
    assert player.play(Audio.silence(0), "empty").result() == "finished"
    with pytest.raises(ValueError, match="16000 Hz"):
        player.play(Audio.silence(100, 16000), "narrow")
    with pytest.raises(ValueError, match="empty"):
        player.loop(Audio.silence(0))


async def test_end_ends_the_track_and_resolves_prompts() -> None:
    player = PromptPlayer(paced=False)
    pending = player.play(ramp(5), "p")
    player.end()
    assert pending.result() == "stopped"
    assert player.readyState == "ended"
    with pytest.raises(MediaStreamError):
        await player.recv()


async def test_paced_frames_follow_the_clock() -> None:
    """Never faster than the clock (a loaded machine can only make it later: no upper bound asserted)."""
    player = PromptPlayer()
    start = time.monotonic()
    frames = [await player.recv() for _ in range(26)]
    assert time.monotonic() - start >= 0.49  # 25 intervals of 20 ms; the first frame is immediate
    assert [f.pts for f in frames] == [i * 960 for i in range(26)]
    assert player.stats.frames_sent == 26


async def test_pacing_does_not_drift_after_a_slow_consumer() -> None:
    player = PromptPlayer()
    start = time.monotonic()
    await player.recv()
    await asyncio.sleep(0.1)  # the consumer is 5 frames behind: slots 1-5 are due already ...
    caught_up = [await player.recv() for _ in range(5)]
    later = [await player.recv() for _ in range(5)]
    # ... and the schedule stays the clock's: slot 10 is not released before 200 ms, and no slot is skipped
    assert time.monotonic() - start >= 0.19
    assert [f.pts for f in caught_up + later] == [i * 960 for i in range(1, 11)]
    assert player.stats.skipped_frames == 0


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_late_frames_and_skip_ahead_with_a_fake_clock() -> None:
    clock = FakeClock()
    player = PromptPlayer(clock=clock)
    player.play(ramp(100), "p")
    await player.recv()  # slot 0 at t=100.000
    clock.now += 0.050  # slot 1 was due at 100.020: 30 ms late
    frame = await player.recv()
    assert (player.stats.late_frames, frame.pts) == (1, 960)
    assert player.stats.max_lateness_ms == pytest.approx(30)
    clock.now += 0.500  # the loop stalled: slot 2 is 530 ms late
    frame = await player.recv()
    assert player.stats.skipped_frames == 25  # jumps to slot 27 instead of bursting 25 frames
    assert frame.pts == 27 * 960
    assert player.current is not None and player.current.played_ms == 60  # no prompt audio skipped


def test_silence_ratio() -> None:
    assert silence_ratio(np.zeros(4800, np.int16)) == 1.0
    assert silence_ratio(np.concatenate([np.zeros(960, np.int16), np.full(960, 5000, np.int16)])) == 0.5
    assert silence_ratio(np.zeros(10, np.int16)) == 1.0


async def test_track_recorder_drains_and_collects() -> None:
    player = PromptPlayer(paced=False)
    seen: list[int] = []
    player.play(ramp(3), "p")
    recorder = TrackRecorder(player, on_samples=lambda s: seen.append(len(s))).start()
    await recorder.wait_for_samples(10 * 960)
    await recorder.stop()
    assert np.array_equal(recorder.samples[: 3 * 960], ramp(3).samples)
    assert [f.offset for f in recorder.frames[:3]] == [0, 960, 1920]
    assert [f.pts for f in recorder.frames[:3]] == [0, 960, 1920]
    assert set(seen) == {960}
    player.end()
    ended = TrackRecorder(player).start()  # an ended track: the recorder finishes by itself
    await asyncio.wait_for(ended._task, 1)  # type: ignore[arg-type]


async def test_a_prompt_queued_between_two_relayed_packets_plays_on_a_fresh_clock() -> None:
    """Hold music queued on a relaying player while its sender is between two ``recv()`` calls (not parked): the
    paced clock restarts where relaying left off, so the relayed minute is not counted as skipped, late slots."""
    now = [0.0]
    player = PromptPlayer(opus_silence=b"\xf8\xff\xfe", clock=lambda: now[0])
    for _ in range(5):  # paced frames before the bridge
        await player.recv()
        now[0] += 0.02
    player.start_relay()
    for i in range(3000):  # a minute of relayed packets, each collected by recv (no send_now)
        player.relay(1000 + 960 * i, b"x")
        await player.recv()
        now[0] += 0.02
    player.loop(Audio(np.zeros(960 * 50, dtype=np.int16), 48000), "music-on-hold")
    await player.recv()
    await player.recv()
    assert (player.stats.skipped_frames, player.stats.late_frames) == (0, 0)
    assert player.stats.max_lateness_ms < 100
