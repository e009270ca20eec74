"""Whether this node takes one more call or chat: admission by load and the drain before a stop.

A node's calls share one event loop. When the loop runs late, every prompt frame and every bridged frame of
every call on it goes out late (a frame is due every 20 ms); one more call only makes that worse. So a new call
is refused with ``lines_busy`` ("all lines busy", the chat offered instead, as ``--max-calls`` does) while the
loop's lag, the median of the last :data:`WINDOW` samples (2 s), is above ``--admission-max-lag-ms``.

What counts as load is a loop that runs late most of the time, not one long stall:

- only once the node serves (:meth:`Admission.serving`, at the end of its start-up): the start-up's own work
  (loading flows and speech models, seeding agents, imports) blocks the loop for a moment and says nothing about
  the calls to come; counted, it made a fresh node refuse every call for a moment (a bench step failed on "the
  event loop runs 75-81 ms late", what one stall of about 300 ms does to a mean over 4 samples). And not before
  :data:`WINDOW` samples were taken since then: a node that just started takes calls (it has none yet), and
  ``/readyz`` says ``ready``;
- the median, not the mean: one stall (a first call's lazy import, a garbage collection, a model loaded on first
  use) wakes one sample late by all of it and then is over; refusing calls for it protects nobody. A loop that
  one more call would make later (every call's frames, every quarter second) is late in most samples, and the
  median sees that as soon as half the window is late.

The lag is not measured here: the node's metrics sampler (gateway/ops/metrics.py, one small owned task) already
measures how late a short sleep wakes up and feeds each sample to :meth:`Admission.observe`. CPU is not a second
signal: a worker's calls run on its one loop, so a worker out of CPU shows as lag first.

**Late frames**, the second signal (``--admission-max-late-percent``). The lag's median misses a loop that is late
in bursts: a worker at one core with 50 IVR calls (``bench ivr``) sent 9-35 % of its frames more than 20 ms late while
the sampler's median lag was about 2 ms (its sleeps mostly fell between the bursts). The sampler also feeds the
node's frame counters (:meth:`Admission.observe_frames`: frames sent and frames late, every call's); the node is
full while more than the limit of the frames it sent over the window went out late, counted once the window holds
:data:`MIN_FRAMES` (one call's 2 seconds) and only when the late frames fell in at least :data:`MIN_LATE_SAMPLES` of
its samples: one stall (a first call's lazy import, a garbage collection) makes every call's frames of that moment
late at once, in one or two samples, and is not load, while a loop that cannot keep up is late again and again.

Draining (SIGTERM, gateway/cli.py): :meth:`Admission.drain` makes the node refuse every new call and chat
socket, for good; ``/readyz`` then answers 503 ``draining`` so a load balancer sends new traffic elsewhere.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from statistics import median

WINDOW = 8  # samples whose median is the lag (the sampler takes one every 0.25 s: the last 2 seconds)
MIN_FRAMES = 100  # frames sent over the window before their late share says anything (one call's 2 seconds)
MIN_LATE_SAMPLES = 3  # samples of the window with late frames: fewer is one stall, not load


class Load(StrEnum):
    """What ``/readyz`` says of this node beyond Redis answering."""

    READY = "ready"
    FULL = "full"  # the loop runs late: no new call until it catches up
    DRAINING = "draining"  # stopping: no new call or chat, ever


class Admission:
    """The node's admission state: lag samples in, ``ready`` / ``full`` / ``draining`` out."""

    def __init__(self, max_lag_ms: float, max_late_percent: float = 0.0, window: int = WINDOW) -> None:
        self.max_lag_s = max_lag_ms / 1000
        self.max_late_share = max_late_percent / 100
        self.samples: deque[float] = deque(maxlen=window)
        # (frames sent, frames late) as each sample was taken: window + 1 of them span the window
        self.frames: deque[tuple[int, int]] = deque(maxlen=window + 1)
        self.draining = False
        self.started = False  # the node serves: its start-up is over (samples before are not load)

    def serving(self) -> None:
        """The node's start-up is over: from now on the loop's lag is load (what came before is forgotten)."""
        self.started = True
        self.samples.clear()
        self.frames.clear()

    def observe(self, lag_s: float) -> None:
        """One lag sample (seconds a sleep woke up late); ignored while the node is still starting."""
        if self.started:
            self.samples.append(lag_s)

    def observe_frames(self, sent: int, late: int) -> None:
        """The node's frame counters (totals since it started, every call's) as a sample is taken."""
        if self.started:
            self.frames.append((sent, late))

    @property
    def lag_s(self) -> float:
        """The median lag over the window (0 before the first sample)."""
        return median(self.samples) if self.samples else 0.0

    @property
    def late_share(self) -> float:
        """The share of the frames sent over the window that went out late (0 with fewer than MIN_FRAMES, or
        with late frames in fewer than MIN_LATE_SAMPLES of its samples: one stall)."""
        if len(self.frames) < 2:
            return 0.0
        (sent0, late0), (sent1, late1) = self.frames[0], self.frames[-1]
        pairs = list(self.frames)
        late_samples = sum(1 for (_, a), (_, b) in zip(pairs, pairs[1:], strict=False) if b > a)
        if sent1 - sent0 < MIN_FRAMES or late_samples < MIN_LATE_SAMPLES:
            return 0.0
        return (late1 - late0) / (sent1 - sent0)

    @property
    def state(self) -> Load:
        if self.draining:
            return Load.DRAINING
        if self.max_lag_s > 0 and len(self.samples) == self.samples.maxlen and self.lag_s > self.max_lag_s:
            return Load.FULL
        if self.max_late_share > 0 and self.late_share > self.max_late_share:
            return Load.FULL
        return Load.READY

    def why_full(self) -> str:
        """What made the node full, for the log line of a refused call."""
        return (
            f"the event loop runs {1000 * self.lag_s:.0f} ms late (median), "
            f"{100 * self.late_share:.1f} % of its frames went out late over the last 2 s"
        )

    def drain(self) -> None:
        """From now on: no new call, no new chat socket (the node is stopping)."""
        self.draining = True
