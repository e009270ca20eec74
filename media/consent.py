"""ICE consent freshness (RFC 7675) that survives a slow path: consent lasts 30 s after the last answer.

aioice checks consent every 4-6 s with one STUN request that it gives 0.5 s
(no retransmission), and closes the connection after 6 checks in a row went
unanswered in that time. So a path whose round trip stays over 0.5 s for
about 30 s loses the call although every check is answered and audio flows:
a mobile uplink with a full buffer (bufferbloat: 1-2 s round trips while the
phone uploads), a satellite hop, or a peer whose event loop runs late.
RFC 7675 (section 5.1) lets consent expire 30 s after the last *response*,
however late, and says a response may answer an earlier request.

:func:`patient_consent` replaces ``aioice.ice.Connection.query_consent``
(process-wide, idempotent): the same 4-6 s rhythm, each check retransmitted
like a connectivity check (at 0, 0.5 and 1.5 s, so an answer up to
:data:`CHECK_WINDOW` seconds late counts), and the connection closed only
when no check has been answered for :data:`CONSENT_EXPIRY` seconds. A peer
that is gone still loses consent within 30-40 s; a slow one keeps it.
``tests/integration/test_ice_consent.py`` runs two aioice connections
through a UDP relay that delays every packet by 1 s each way.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import aioice.ice
from aioice import stun

from media.errors import UnsupportedAiortcVersion

log = logging.getLogger(__name__)

#: Consent expires this long after the last answered check (RFC 7675: 30 s).
CONSENT_EXPIRY = 30.0
#: Retransmissions of one check (aioice's RTO doubles from 0.5 s: sent at 0, 0.5, 1.5 s).
CHECK_RETRANSMISSIONS = 2
#: How late an answer to a check may come and still count: the check's last timer (0.5 + 1 + 2 s).
CHECK_WINDOW = 3.5

ORIGINAL_QUERY_CONSENT = aioice.ice.Connection.query_consent


def _check_supported() -> None:
    needed = ("_nominated", "build_request", "remote_password", "close")
    code = ORIGINAL_QUERY_CONSENT.__code__
    missing = [name for name in needed if name not in code.co_names]
    if missing or not hasattr(aioice.ice, "CONSENT_INTERVAL") or not hasattr(stun, "TransactionError"):
        raise UnsupportedAiortcVersion(
            f"aioice's Connection.query_consent changed (no {', '.join(missing) or 'CONSENT_INTERVAL'}); "
            "review media/consent.py"
        )


async def query_consent(self: Any) -> None:
    """Check consent every 4-6 s; close once no check was answered for CONSENT_EXPIRY seconds (RFC 7675)."""
    assert self.remote_password is not None  # as aioice: checks start once connect() has the remote password
    loop = asyncio.get_running_loop()
    answered_at = loop.time()
    while True:
        await asyncio.sleep(aioice.ice.CONSENT_INTERVAL * (0.8 + 0.4 * random.random()))
        for pair in list(self._nominated.values()):
            request = self.build_request(pair, nominate=False)
            try:
                await pair.protocol.request(
                    request,
                    pair.remote_addr,
                    integrity_key=self.remote_password.encode("utf8"),
                    retransmissions=CHECK_RETRANSMISSIONS,
                )
            except stun.TransactionError:
                continue  # unanswered (or refused) this time: only the time since the last answer counts
            answered_at = loop.time()
        silent = loop.time() - answered_at
        if silent >= CONSENT_EXPIRY:
            log.info("ICE consent expired: no check answered for %.1f s", silent)
            self._query_consent_task = None  # as aioice: close() must not cancel the task it runs in
            await self.close()
            return


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
