"""Is this SDP offer one a leg can answer? Total: any text gives a yes or a :class:`BadOffer`, never a crash.

aiortc's SDP parser trusts its input: a malformed line ends in an
``AssertionError`` (``m=audio <junk>``), ``ValueError``, ``KeyError``,
``IndexError``, ``AttributeError`` or ``StopIteration`` (an ``a=fmtp`` for
a payload type it has no ``a=rtpmap`` for), and some offers it parses still fail
later, inside ``setRemoteDescription`` / ``createAnswer`` (no common codec,
no direction, no rtcp-mux, ICE credentials missing on a second section).
:func:`check_offer` parses the offer and checks every one of those
conditions up front, so a caller can refuse an offer before anything is
created for it; :data:`PARSE_ERRORS` are the exception types aiortc raises on
bad SDP, for the places that hand an offer to aiortc itself.
"""

from __future__ import annotations

from aiortc import sdp as aiortc_sdp
from aiortc.codecs import CODECS
from aiortc.exceptions import InvalidAccessError, InvalidStateError, OperationError
from aiortc.rtcpeerconnection import find_common_codecs

from media.errors import MediaError

#: What aiortc raises on SDP it cannot use (its parser asserts and indexes freely).
PARSE_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    KeyError,
    IndexError,
    AssertionError,
    AttributeError,
    TypeError,
    ArithmeticError,
    StopIteration,
)
#: What aiortc's peer connection raises for a description it refuses.
NEGOTIATION_ERRORS: tuple[type[Exception], ...] = (*PARSE_ERRORS, OperationError, InvalidAccessError, InvalidStateError)


class BadOffer(MediaError):
    """An SDP offer the leg cannot answer: unparseable, no audio, no ICE credentials or DTLS fingerprint."""

    code = "bad_sdp"


def parse_offer(offer_sdp: str) -> aiortc_sdp.SessionDescription:
    try:
        return aiortc_sdp.SessionDescription.parse(offer_sdp)
    except PARSE_ERRORS as exc:
        raise BadOffer(f"the SDP offer could not be parsed: {_why(exc)}") from None


def check_offer(offer_sdp: str) -> None:
    """Refuse an unusable offer before anything is created for it (cheap: parsing and checks only)."""
    parsed = parse_offer(offer_sdp)
    audio = [m for m in parsed.media if m.kind == "audio"]
    if not audio:
        raise BadOffer("the offer has no audio", code="no_audio")
    for index, media in enumerate(parsed.media):
        where = f"media section {index} ({media.kind})"
        if not (media.ice and media.ice.usernameFragment and media.ice.password):
            raise BadOffer(f"{where} has no ICE credentials (a=ice-ufrag / a=ice-pwd)")
        if media.kind in ("audio", "video", "application") and media.dtls is None:
            raise BadOffer(f"{where} has no DTLS parameters (a=fingerprint / a=setup)")
        if media.kind in ("audio", "video"):
            try:
                parsed.webrtc_track_id(media)  # a=msid with a space but not two words: aiortc indexes past it
            except PARSE_ERRORS as exc:
                raise BadOffer(f"{where}: its a=msid could not be read: {_why(exc)}") from None
            if not media.rtcp_mux:
                raise BadOffer(f"{where} does not multiplex RTCP (a=rtcp-mux)")
            if media.direction not in aiortc_sdp.DIRECTIONS:
                raise BadOffer(f"{where} has no direction (a=sendrecv, a=sendonly, ...)")
            try:
                common = find_common_codecs(CODECS[media.kind], media.rtp.codecs)
            except PARSE_ERRORS as exc:
                raise BadOffer(f"{where}: its codecs could not be read: {_why(exc)}") from None
            if not common:
                raise BadOffer(f"{where} offers no codec this gateway speaks")
        elif media.kind == "application" and media.profile == "DTLS/SCTP" and not _is_port(media.fmt):
            raise BadOffer(f"{where} has no SCTP port")
    if not (audio[0].dtls and audio[0].dtls.fingerprints):
        raise BadOffer("the offer has no DTLS fingerprint (a=fingerprint)")


def _is_port(fmt: list[str | int]) -> bool:
    return bool(fmt) and str(fmt[0]).isdigit()


def _why(exc: Exception) -> str:
    """What went wrong, for the client: the parser's message, or the kind of failure when it has none."""
    text = str(exc).strip()
    return ascii(text[:200])[1:-1] if text else f"malformed line ({type(exc).__name__})"
