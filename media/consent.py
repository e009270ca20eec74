"""ICE consent freshness (RFC 7675) that survives a slow path: consent lasts 30 s after the last answer.

aioice checks consent every 4-6 s with one STUN request that it gives 0.5 s
(no retransmission), and closes the connection after 6 checks in a row went
unanswered in that time. So a path whose round trip stays over 0.5 s for
about 30 s loses the call although every check is answered and audio flows:
a mobile uplink with a full buffer (bufferbloat: 1-2 s round trips while the
phone uploads), a satellite hop, or a peer whose event loop runs late.
RFC 7675 (section 5.1) sends each consent request once, with a new
transaction id, and lets consent expire 30 s after the last *response*:
a response may answer an earlier request.

:func:`patient_consent` replaces ``aioice.ice.Connection.query_consent``
(process-wide, idempotent) with that: the same 4-6 s rhythm, each request sent
once and left waiting for its answer (in its protocol's ``transactions``,
where aioice routes responses by transaction id) until the expiry, any
authenticated answer renewing consent, and the connection closed when none
came for :data:`CONSENT_EXPIRY` seconds (noticed at the next check: 30-36 s
after the last answer). This covers the gateway's side of a call; the
browser at the other end keeps its own consent.
``tests/integration/test_ice_consent.py`` runs two aioice connections
through a UDP relay that delays every packet by 2 s each way.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

import aioice.ice
from aioice import stun

from media.errors import UnsupportedAiortcVersion

log = logging.getLogger(__name__)

#: Consent expires this long after the last answered request (RFC 7675: 30 s).
CONSENT_EXPIRY = 30.0

ORIGINAL_QUERY_CONSENT = aioice.ice.Connection.query_consent


def _check_supported() -> None:
    """What the replacement relies on in aioice, checked when it is installed (not on a call's first check)."""
    needs = {
        "Connection.query_consent uses _nominated, build_request, remote_password, close": {
            "_nominated",
            "build_request",
            "remote_password",
            "close",
        }
        <= set(ORIGINAL_QUERY_CONSENT.__code__.co_names),
        "Connection.connect starts query_consent": "query_consent" in aioice.ice.Connection.connect.__code__.co_names,
        "Connection.close cancels _query_consent_task": "_query_consent_task"
        in aioice.ice.Connection.close.__code__.co_names,
        "StunProtocol keeps transactions by id": "transactions" in aioice.ice.StunProtocol.__init__.__code__.co_names,
        "StunProtocol routes responses to transactions[id].response_received": {
            "transactions",
            "response_received",
        }
        <= set(aioice.ice.StunProtocol.datagram_received.__code__.co_names),
        "StunProtocol.send_stun": callable(getattr(aioice.ice.StunProtocol, "send_stun", None)),
        "stun.Message.check_message_integrity": callable(getattr(stun.Message, "check_message_integrity", None)),
        "aioice.ice.CONSENT_INTERVAL": isinstance(getattr(aioice.ice, "CONSENT_INTERVAL", None), int | float),
    }
    missing = [what for what, ok in needs.items() if not ok]
    if missing:
        raise UnsupportedAiortcVersion(f"aioice changed ({'; '.join(missing)}): review media/consent.py")


class _Request:
    """One consent request waiting for its answer where aioice routes responses (``protocol.transactions``)."""

    def __init__(self, key: bytes, answered: Callable[[], None]) -> None:
        self._key = key
        self._answered = answered

    def response_received(self, message: stun.Message, addr: tuple[str, int]) -> None:
        # an error response (or one not signed with the peer's password) renews nothing
        if message.message_class == stun.Class.RESPONSE and message.check_message_integrity(self._key):
            self._answered()


async def query_consent(self: Any) -> None:
    """Send a consent request every 4-6 s; close once none was answered for CONSENT_EXPIRY seconds (RFC 7675)."""
    assert self.remote_password is not None  # as aioice: checks start once connect() has the remote password
    loop = asyncio.get_running_loop()
    key = self.remote_password.encode("utf8")
    answered_at = loop.time()
    waiting: list[tuple[Any, bytes, float]] = []  # (protocol, transaction id, sent at)

    def answered() -> None:
        nonlocal answered_at
        answered_at = loop.time()

    try:
        while True:
            await asyncio.sleep(aioice.ice.CONSENT_INTERVAL * (0.8 + 0.4 * random.random()))
            now = loop.time()
            for protocol, transaction_id, sent_at in waiting:
                if now - sent_at >= CONSENT_EXPIRY:  # an answer this late renews nothing any more
                    protocol.transactions.pop(transaction_id, None)
            waiting = [entry for entry in waiting if now - entry[2] < CONSENT_EXPIRY]
            silent = now - answered_at
            if silent >= CONSENT_EXPIRY:
                log.info("%s Consent to send expired: no request answered for %.1f s", self, silent)
                self._query_consent_task = None  # as aioice: close() must not cancel the task it runs in
                await self.close()
                return
            for pair in list(self._nominated.values()):
                request = self.build_request(pair, nominate=False)
                request.add_message_integrity(key)
                pair.protocol.transactions[request.transaction_id] = _Request(key, answered)
                waiting.append((pair.protocol, request.transaction_id, now))
                pair.protocol.send_stun(request, pair.remote_addr)  # once: RFC 7675 retransmits nothing
    finally:
        for protocol, transaction_id, _ in waiting:
            protocol.transactions.pop(transaction_id, None)


def patient_consent() -> None:
    """Install :func:`query_consent` in aioice (process-wide, idempotent).

    Raises :class:`UnsupportedAiortcVersion` if aioice's own no longer looks like the one this replaces.
    """
    _check_supported()
    aioice.ice.Connection.query_consent = query_consent  # type: ignore[method-assign]


def restore_consent() -> None:
    """Put aioice's own consent checks back (for tests and before/after measurements)."""
    aioice.ice.Connection.query_consent = ORIGINAL_QUERY_CONSENT  # type: ignore[method-assign]


def is_patient() -> bool:
    return aioice.ice.Connection.query_consent is query_consent  # type: ignore[comparison-overlap]
