"""A circuit breaker for a remote speech server: after N failures in a row, stop trying for a while.

A deployment may send recognition and prompts to speech servers on other
machines (:mod:`media.asr.wyoming_engine`, :mod:`media.wyoming_tts`). When
such a server is down every request would first wait for its timeout and
then fall back to the local engine: callers would hear that wait on every
turn. The breaker remembers the failures instead:

- **closed** (normal): every request goes to the server. ``failures``
  failures in a row open the breaker.
- **open**: no request goes to the server for ``pause_s`` seconds; the local
  engine answers at once. Opening is logged once (not once per request).
- **half-open**: after the pause one request (a probe) goes to the server;
  its success closes the breaker (logged), its failure opens it again for
  another pause. Requests that arrive while the probe runs go local.

Pure logic with the clock as an input (``clock``, default
:func:`time.monotonic`), so tests step time instead of sleeping. Thread-safe:
ASR requests come from the recognition pool's threads, TTS ones from the
event loop. ``on_change`` is called with the new state (outside the lock),
e.g. to set a gauge.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from enum import StrEnum

log = logging.getLogger(__name__)

DEFAULT_FAILURES = 3
DEFAULT_PAUSE_S = 30.0


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """See the module docstring. ``name`` says which server in the logs (e.g. ``"asr tcp://gpu1:10300"``)."""

    def __init__(
        self,
        name: str,
        *,
        failures: int = DEFAULT_FAILURES,
        pause_s: float = DEFAULT_PAUSE_S,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        if failures < 1:
            raise ValueError("a circuit breaker needs failures >= 1")
        if pause_s <= 0:
            raise ValueError("a circuit breaker needs a pause > 0")
        self.name = name
        self.failures = failures
        self.pause_s = pause_s
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._in_a_row = 0
        self._opened_at = 0.0
        self._probing = False
        #: How many times the breaker opened (for logs and tests).
        self.openings = 0

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose pause is over reads as half-open)."""
        with self._lock:
            if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.pause_s:
                return BreakerState.HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """May this request go to the server? Every True must be followed by :meth:`success` or :meth:`failure`."""
        changed: BreakerState | None = None
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return True
            if self._state is BreakerState.OPEN:
                if self._clock() - self._opened_at < self.pause_s:
                    return False
                self._state = changed = BreakerState.HALF_OPEN
            if self._probing:
                return False
            self._probing = True
        if changed is not None:
            self._notify(changed)
        return True

    def success(self) -> None:
        """The request the breaker allowed got its answer."""
        with self._lock:
            self._in_a_row = 0
            self._probing = False
            if self._state is BreakerState.CLOSED:
                return
            self._state = BreakerState.CLOSED
        log.warning("speech server %s answers again: using it", self.name)
        self._notify(BreakerState.CLOSED)

    def failure(self, reason: str = "") -> None:
        """The request the breaker allowed failed (refused, timed out, broken answer)."""
        with self._lock:
            self._probing = False
            self._in_a_row += 1
            if self._state is BreakerState.OPEN:
                return
            if self._state is BreakerState.CLOSED and self._in_a_row < self.failures:
                log.info("speech server %s failed (%d in a row): %s", self.name, self._in_a_row, reason)
                return
            probe = self._state is BreakerState.HALF_OPEN
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()
            self.openings += 1
        if probe:
            log.info(
                "speech server %s still failing (%s): local engine for another %g s", self.name, reason, self.pause_s
            )
        else:
            log.warning(
                "speech server %s failed %d times in a row (last: %s): using the local engine for %g s",
                self.name,
                self.failures,
                reason,
                self.pause_s,
            )
        self._notify(BreakerState.OPEN)

    def _notify(self, state: BreakerState) -> None:
        if self._on_change is not None:
            self._on_change(state)
