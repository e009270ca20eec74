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
node's frame counters (:meth:`Admission.observe_frames`: frames due on the clock and frames late, every live
track's: :meth:`gateway.calls.manager.CallManager.clocked_frames`); the node is full while more than the limit of
the frames due over the window went out late, counted once the window holds :data:`MIN_FRAMES` (one call's 2
seconds) and only when at least :data:`MIN_LATE_SAMPLES` of its samples were each late over the limit: one stall
(a first call's lazy import, a garbage collection) makes every call's frames of that moment late at once, in one or
two samples, and is not load, even on a busy node whose every sample has a few late frames; a loop that cannot keep
up is late again and again.

**The loop's CPU**, the third (``--admission-max-loop-cpu-percent``). Late frames say the calls already sound choppy;
admission should refuse the call that would make them so. A worker's calls all run on its event loop's thread, so
that thread's CPU over the window (the sampler reads ``time.thread_time()`` on it: codecs or recognizers in other
threads are not counted) says how close the loop is to a full core: ``bench ivr``, one worker, 40 calls with the
whole gateway at 85 % of a core and 0.5-1.7 % of the frames late, 50 calls at 94-97 % with 9-35 % late; a limit of 90 % let 46 calls in at
6 % late, 85 % (the default) 34-42 at 0.4-2.8 %. The node is full while the share is
over the limit (a whole window taken; one stall of 0.3 s adds 15 points to it and is over in 2 s) and it carries at
least one call: a node busy with chats alone is not full (``/readyz`` 503 would send its new chats elsewhere, and a
single node's to nowhere). A worker that cannot get its core (other processes on the machine) stays under the
limit and is caught by its late frames.

Draining (SIGTERM, gateway/cli.py): :meth:`Admission.drain` makes the node refuse every new call and chat
socket, for good; ``/readyz`` then answers 503 ``draining`` so a load balancer sends new traffic elsewhere.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum
from statistics import median

WINDOW = 8  # samples whose median is the lag (the sampler takes one every 0.25 s: the last 2 seconds)
MIN_FRAMES = 100  # frames sent over the window before their late share says anything (one call's 2 seconds)
MIN_LATE_SAMPLES = 3  # samples of the window each late over the limit: fewer is one stall, not load


class Load(StrEnum):
    """What ``/readyz`` says of this node beyond Redis answering."""

    READY = "ready"
    FULL = "full"  # the loop runs late: no new call until it catches up
    DRAINING = "draining"  # stopping: no new call or chat, ever


class Admission:
    """The node's admission state: lag samples in, ``ready`` / ``full`` / ``draining`` out."""

    def __init__(
        self, max_lag_ms: float, max_late_percent: float = 0.0, max_loop_cpu_percent: float = 0.0, window: int = WINDOW
    ) -> None:
        self.max_lag_s = max_lag_ms / 1000
        self.max_late_share = max_late_percent / 100
        self.max_loop_cpu_share = max_loop_cpu_percent / 100
        # (clock seconds, the loop thread's CPU seconds) as each sample was taken: window + 1 span the window
        self.cpu: deque[tuple[float, float]] = deque(maxlen=window + 1)
        self.calls = 0  # calls on the node at the last CPU sample: without any, its CPU turns nobody away
        self.samples: deque[float] = deque(maxlen=window)
        # (frames due, frames late) as each sample was taken: window + 1 of them span the window
        self.frames: deque[tuple[int, int]] = deque(maxlen=window + 1)
        self.draining = False
        self.started = False  # the node serves: its start-up is over (samples before are not load)

    def serving(self) -> None:
        """The node's start-up is over: from now on the loop's lag is load (what came before is forgotten)."""
        self.started = True
        self.samples.clear()
        self.frames.clear()
        self.cpu.clear()

    def observe(self, lag_s: float) -> None:
        """One lag sample (seconds a sleep woke up late); ignored while the node is still starting."""
        if self.started:
            self.samples.append(lag_s)

    def observe_frames(self, sent: int, late: int) -> None:
        """The node's frames due and late so far (``CallManager.clocked_frames``) as a sample is taken."""
        if self.started:
            self.frames.append((sent, late))

    def observe_loop_cpu(self, at_s: float, cpu_s: float, calls: int) -> None:
        """The loop thread's CPU seconds so far (``time.thread_time()`` on it) at clock time ``at_s``, with
        ``calls`` calls on the node."""
        if self.started:
            self.cpu.append((at_s, cpu_s))
            self.calls = calls

    @property
    def loop_cpu_share(self) -> float:
        """The loop thread's CPU over the window, as a share of the clock (0 before a whole window)."""
        if len(self.cpu) < (self.cpu.maxlen or 0):
            return 0.0
        (at0, cpu0), (at1, cpu1) = self.cpu[0], self.cpu[-1]
        return (cpu1 - cpu0) / (at1 - at0) if at1 > at0 else 0.0

    @property
    def lag_s(self) -> float:
        """The median lag over the window (0 before the first sample)."""
        return median(self.samples) if self.samples else 0.0

    @property
    def late_share(self) -> float:
        """The share of the frames due over the window that went out late (0 with fewer than MIN_FRAMES, or when
        fewer than MIN_LATE_SAMPLES of its samples were each late over the limit: one stall on a node whose frames
        are otherwise on time, or a few late ones in every sample of a busy but healthy node)."""
        if len(self.frames) < 2:
            return 0.0
        (sent0, late0), (sent1, late1) = self.frames[0], self.frames[-1]
        pairs = list(self.frames)
        late_samples = sum(
            1 for (s0, l0), (s1, l1) in zip(pairs, pairs[1:], strict=False) if l1 - l0 > self.max_late_share * (s1 - s0)
        )
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
        if self.max_loop_cpu_share > 0 and self.calls > 0 and self.loop_cpu_share > self.max_loop_cpu_share:
            return Load.FULL
        return Load.READY

    def why_full(self) -> str:
        """What made the node full, for the log line of a refused call."""
        return (
            f"the event loop runs {1000 * self.lag_s:.0f} ms late (median), "
            f"{100 * self.late_share:.1f} % of its frames went out late over the last 2 s, "
            f"its thread used {100 * self.loop_cpu_share:.0f} % of a core"
        )

    def drain(self) -> None:
        """From now on: no new call, no new chat socket (the node is stopping)."""
        self.draining = True
