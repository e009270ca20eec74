"""media.aiortc_patches: the numpy audio level matches aiortc's and is installed safely; a connection closed while
aioice binds its candidates leaves no socket open."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import aioice.ice
import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, rtp
from av import AudioFrame

from media import aiortc_patches
from media.aiortc_patches import (
    ORIGINAL_COMPUTE_AUDIO_LEVEL_DBOV,
    ORIGINAL_GET_COMPONENT_CANDIDATES,
    compute_audio_level_dbov,
    speed_up_aiortc,
)
from media.errors import UnsupportedAiortcVersion
from tests.support.leaks import leaked_sockets, open_sockets


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    before = rtp.compute_audio_level_dbov
    yield
    rtp.compute_audio_level_dbov = before


def frame(samples: np.ndarray, layout: str = "mono") -> AudioFrame:
    f = AudioFrame.from_ndarray(samples.astype(np.int16).reshape(1, -1), format="s16", layout=layout)
    f.sample_rate = 48000
    return f


def test_same_result_as_aiortc() -> None:
    rng = np.random.default_rng(0)
    cases = [
        np.zeros(960),
        np.full(960, 32767),
        np.full(960, -32768),
        np.full(960, 1),
        np.sin(np.arange(960) / 5) * 20000,
    ]
    cases += [rng.normal(0, 10 ** (rng.uniform(-1, 4.3)), 960).clip(-32768, 32767) for _ in range(300)]
    for samples in cases:
        f = frame(samples)
        assert compute_audio_level_dbov(f) == ORIGINAL_COMPUTE_AUDIO_LEVEL_DBOV(f)
    stereo = frame(rng.normal(0, 3000, 1920).clip(-32768, 32767), layout="stereo")
    assert compute_audio_level_dbov(stereo) == ORIGINAL_COMPUTE_AUDIO_LEVEL_DBOV(stereo)


def test_speed_up_installs_and_restores() -> None:
    speed_up_aiortc()
    speed_up_aiortc()  # idempotent
    assert aiortc_patches.is_sped_up()
    assert rtp.compute_audio_level_dbov is compute_audio_level_dbov
    aiortc_patches.restore_aiortc()
    assert rtp.compute_audio_level_dbov is ORIGINAL_COMPUTE_AUDIO_LEVEL_DBOV


def test_refuses_when_aiortc_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(rtp, "compute_audio_level_dbov")
    with pytest.raises(UnsupportedAiortcVersion, match="compute_audio_level_dbov"):
        speed_up_aiortc()


def test_audio_jitter_buffer_releases_after_one_packet_video_unchanged() -> None:
    from aiortc import rtcrtpreceiver

    from media.aiortc_patches import (
        AUDIO_PREFETCH,
        ORIGINAL_JITTER_BUFFER,
        ShortAudioJitterBuffer,
        restore_jitter_buffer,
        shorten_audio_jitter_buffer,
    )

    original = rtcrtpreceiver.JitterBuffer
    try:
        shorten_audio_jitter_buffer()
        assert rtcrtpreceiver.JitterBuffer is ShortAudioJitterBuffer
        audio = rtcrtpreceiver.JitterBuffer(capacity=16, prefetch=4)
        video = rtcrtpreceiver.JitterBuffer(capacity=512, prefetch=4, is_video=True)
        assert (audio._prefetch, video._prefetch) == (AUDIO_PREFETCH, 4)
        restore_jitter_buffer()
        assert rtcrtpreceiver.JitterBuffer is ORIGINAL_JITTER_BUFFER
    finally:
        rtcrtpreceiver.JitterBuffer = original  # type: ignore[misc]


# ---------------------------------------------------------------- candidate sockets bound after close


async def close_while_binding(monkeypatch: pytest.MonkeyPatch) -> tuple[RTCPeerConnection, list[str]]:
    """A peer connection closed while aioice's gathering holds its first socket bound but not yet added to the
    connection (deterministic: the loop's ``create_datagram_endpoint`` waits for the close before returning).
    Returns the peer connection and the sockets still open once the gathering finished."""
    loop = asyncio.get_running_loop()
    original = loop.create_datagram_endpoint
    bound, closed = asyncio.Event(), asyncio.Event()

    async def bind_then_wait_for_close(*args: Any, **kwargs: Any) -> Any:
        made = await original(*args, **kwargs)
        bound.set()
        await closed.wait()
        return made

    monkeypatch.setattr(loop, "create_datagram_endpoint", bind_then_wait_for_close)
    before = open_sockets()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio")
    gathering = asyncio.create_task(pc.setLocalDescription(await pc.createOffer()))
    await bound.wait()
    assert len(leaked_sockets(before)) == 1  # the host candidate's socket, bound
    await pc.close()
    closed.set()
    await gathering
    return pc, leaked_sockets(before)


async def test_aioice_alone_leaves_the_socket_of_a_connection_closed_while_binding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aioice.ice.Connection, "get_component_candidates", ORIGINAL_GET_COMPONENT_CANDIDATES)
    pc, still_open = await close_while_binding(monkeypatch)
    assert [re.sub(r"\d+", "N", s) for s in still_open] == ["socket fd N: udp N.N.N.N:N"]
    connection = pc.getTransceivers()[0].sender.transport.transport.iceGatherer._connection
    for protocol in connection._protocols:  # the late socket, which nothing else would close
        await protocol.close()


async def test_a_connection_closed_while_binding_closes_the_late_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        aioice.ice.Connection, "get_component_candidates", aioice.ice.Connection.get_component_candidates
    )  # put back afterwards
    aiortc_patches.close_late_candidate_sockets()
    aiortc_patches.close_late_candidate_sockets()  # idempotent
    _, still_open = await close_while_binding(monkeypatch)
    assert still_open == []


def test_close_late_sockets_refuses_when_aioice_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    async def close(self: aioice.ice.Connection) -> None:
        pass

    monkeypatch.setattr(aioice.ice.Connection, "close", close)
    with pytest.raises(UnsupportedAiortcVersion, match="_closing"):
        aiortc_patches.close_late_candidate_sockets()


def test_patient_consent_is_installed_once_and_restored() -> None:
    import aioice.ice

    from media.consent import ORIGINAL_QUERY_CONSENT, is_patient, patient_consent, query_consent, restore_consent

    was = aioice.ice.Connection.query_consent
    try:
        restore_consent()
        assert not is_patient() and aioice.ice.Connection.query_consent is ORIGINAL_QUERY_CONSENT
        patient_consent()
        patient_consent()  # idempotent
        assert is_patient() and aioice.ice.Connection.query_consent is query_consent
        restore_consent()
        assert aioice.ice.Connection.query_consent is ORIGINAL_QUERY_CONSENT
    finally:
        aioice.ice.Connection.query_consent = was  # type: ignore[method-assign]


def test_patient_consent_refuses_an_aioice_that_cannot_check_a_responses_integrity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """aioice up to 0.10 (which ``aiortc>=1.9`` allows) checks MESSAGE-INTEGRITY in ``parse_message(data, key)``
    and its Message has no ``check_message_integrity``: installed there, every consent answer raised AttributeError
    in ``datagram_received`` and renewed nothing, so every call ended 30-36 s in."""
    from aioice import stun

    from media.consent import patient_consent

    monkeypatch.delattr(stun.Message, "check_message_integrity")
    was = aioice.ice.Connection.query_consent
    try:
        with pytest.raises(UnsupportedAiortcVersion, match="check_message_integrity"):
            patient_consent()
    finally:
        aioice.ice.Connection.query_consent = was  # type: ignore[method-assign]
