"""Bridge plumbing without the network: bounded live buffers, mixing, hold, listeners and whispers."""

from __future__ import annotations

import numpy as np

from media.bridge import Bridge, LiveAudio, Mix
from media.music import hold_music
from media.player import SAMPLES_PER_FRAME, PromptPlayer


def block(value: int) -> np.ndarray:
    return np.full(SAMPLES_PER_FRAME, value, dtype=np.int16)


def level(data: bytes | None) -> int:
    return 0 if data is None else int(np.frombuffer(data, dtype="<i2")[0])


async def next_block(player: PromptPlayer) -> np.ndarray:
    frame = await player.recv()
    return np.frombuffer(bytes(frame.planes[0]), dtype="<i2")[:SAMPLES_PER_FRAME]  # type: ignore[union-attr]


def test_live_audio_keeps_order_and_never_builds_delay() -> None:
    live = LiveAudio(max_blocks=3)
    live.push(np.concatenate([block(1), block(2)[:480]]))  # a block and a half
    assert level(live.pull()) == 1 and live.pull() is None  # the half waits for the rest
    live.push(block(2)[480:])
    for v in (3, 4, 5, 6):
        live.push(block(v))
    assert live.dropped == 2  # 2,3 dropped: at most 3 blocks of delay
    assert [level(live.pull()) for _ in range(4)] == [4, 5, 6, 0]


def test_mix_sums_sources_and_clips() -> None:
    mix = Mix(3, "a", "b")
    mix.push("a", block(1000))
    assert level(mix.pull()) == 1000  # one source: passed through
    mix.push("a", block(30000))
    mix.push("b", block(30000))
    assert level(mix.pull()) == 32767
    assert mix.pull() is None


async def test_bridge_crosses_holds_and_lets_a_supervisor_listen_and_whisper() -> None:
    caller, agent, supervisor = (PromptPlayer(paced=False) for _ in range(3))
    bridge = Bridge(caller, agent)
    bridge.from_a(block(100))
    bridge.from_b(block(200))
    assert (await next_block(agent))[0] == 100 and (await next_block(caller))[0] == 200
    # hold: music to the caller, silence to the agent, nothing crosses
    bridge.hold(hold_music())
    bridge.from_a(block(100))
    bridge.from_b(block(200))
    assert not np.any(await next_block(agent))
    music = await next_block(caller)
    assert np.any(music) and music[0] != 200
    bridge.resume()
    # a listener hears both sides mixed; a whisper reaches the agent only
    bridge.listen(supervisor)
    bridge.from_a(block(100))
    bridge.from_b(block(200))
    assert (await next_block(supervisor))[0] == 300
    await next_block(agent), await next_block(caller)
    bridge.whisper(block(7))
    bridge.from_a(block(100))
    assert (await next_block(agent))[0] == 107
    assert not np.any(await next_block(caller))
    bridge.close()
    assert caller.live is None and agent.live is None and supervisor.live is None


async def test_a_barge_reaches_both_sides_until_its_source_is_dropped() -> None:
    caller, agent = PromptPlayer(paced=False), PromptPlayer(paced=False)
    bridge = Bridge(caller, agent)
    bridge.barge(block(9), "monitor-carol")
    bridge.from_a(block(100))
    bridge.from_b(block(200))
    assert (await next_block(agent))[0] == 109 and (await next_block(caller))[0] == 209
    bridge.barge(block(9), "monitor-carol")
    bridge.drop_source("monitor-carol")  # the supervisor left (or went back to listening)
    bridge.from_a(block(100))
    bridge.from_b(block(200))
    assert (await next_block(agent))[0] == 100 and (await next_block(caller))[0] == 200
    bridge.close()


def test_a_standing_backlog_drains_block_by_block() -> None:
    live = LiveAudio(max_blocks=3, drain_window=5)
    live.push(np.concatenate([block(1), block(2)]))  # a burst leaves 2 blocks of delay behind
    for v in range(3, 23):  # then both clocks tick together
        live.push(block(v))
        live.pull()
    assert live.dropped == 2  # one block per quiet window, not all at once
    live.push(block(99))
    assert level(live.pull()) == 99 and live.pull() is None  # no delay left: what arrives goes out next
