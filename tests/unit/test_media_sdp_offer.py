"""media/sdp_offer.py: an offer check_offer() accepts is one aiortc can answer; everything else is BadOffer."""

from __future__ import annotations

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from media.sdp_offer import BadOffer, check_offer
from media.telephone_event import enable_telephone_events
from tests.support.junk import CHROMIUM_OFFER, Junk


async def aiortc_offer() -> str:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    enable_telephone_events(pc)
    pc.addTransceiver("audio")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


async def test_an_accepted_offer_is_one_aiortc_answers() -> None:
    """Seeded mutations of a Chromium and an aiortc offer: whatever check_offer() lets through, a peer connection
    (with telephone-event, as a leg has) takes and answers: nothing fails after the gateway said yes (the
    customer's conversation is opened in between)."""
    bases = [CHROMIUM_OFFER, await aiortc_offer()]
    junk = Junk(23)
    accepted = refused = 0
    for i in range(400):
        sdp = junk.sdp(bases[i % 2])
        try:
            check_offer(sdp)
        except BadOffer:
            refused += 1
            continue
        accepted += 1
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        enable_telephone_events(pc, lambda digit: None)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            await pc.createAnswer()
        finally:
            await pc.close()
    assert accepted > 50 and refused > 150, (accepted, refused)


@pytest.mark.parametrize(
    "line, replacement",
    [
        ("a=msid:stream track", "a=msid:stream "),  # a space, one word: aiortc indexes past it
        ("a=setup:actpass", "a=setup:bogus"),
        ("a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/x/2"),
    ],
)
def test_lines_aiortc_trips_over_are_bad_sdp(line: str, replacement: str) -> None:
    with pytest.raises(BadOffer) as info:
        check_offer(CHROMIUM_OFFER.replace(line, replacement))
    assert info.value.code == "bad_sdp"
