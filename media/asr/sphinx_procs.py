"""pocketsphinx grammar searches in worker processes, so a decode never holds the event loop's GIL.

``Decoder.process_raw`` holds the GIL for the whole search (media/asr/sphinx_engine.py, "Cost"). In a worker
thread of the :class:`~media.asr.pool.RecognitionPool` that stalls every other thread of the process, the event
loop included, for as long as the search runs: measured here, two threads decoding 45 ms utterances delayed a 1 ms
sleep on a third thread by up to 153 ms, and two threads took longer than one (618 ms for ten decodes against
451 ms one after the other). In a call that is worse than slow: the listener's speculative decode (started at a
short pause, media/asr/listener.py) is meant to run *while* the event loop keeps measuring that pause, and in
``bench speech`` the pause was only seen once the decode was over (speculative decode started 234 ms after the
caller's end of speech, pause seen at 639 ms, p50, 2 calls on a loaded machine), and the prompts of every other
call were late meanwhile.

:class:`SphinxProcessEngine` is a :class:`~media.asr.sphinx_engine.SphinxEngine` whose :meth:`decode` (the whole
decision: views, comfort noise, garbage check) runs in one of ``processes`` worker processes (``spawn``: nothing
of the gateway's threads or sockets is inherited), each with its own engine and one decoder. The recognizer, the
listener and the lanes are unchanged: the lane's worker thread waits for the process with the GIL released.
Free dictation (live transcripts) and the dictionary lookups stay in this process. The workers load their model
when the engine is made (a first caller does not wait for it); :meth:`close` stops them. A worker that dies
breaks the process pool: decodes then run in this process again (logged once), as the thread pool did before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from media.asr.engine import Result
from media.asr.grammar import Grammar
from media.asr.sphinx_decision import DEFAULT_DECISION
from media.asr.sphinx_engine import SphinxEngine

log = logging.getLogger(__name__)

_worker_engine: SphinxEngine | None = None  # one per worker process


#: How often a decoding process checks that the node that started it is still there (seconds).
PARENT_CHECK_SECONDS = 1.0


def _exit_with_parent(parent: int) -> None:
    """A decoding process ends once the node that started it is gone (it was killed, or a worker died and was
    restarted): orphaned, it would hold its ~100 MB and its model for ever, since nothing else ever ends it."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


class _WorkerEngine(SphinxEngine):
    """A decoding worker's engine: it reads the decoys' dictionary as it starts, not on the first answer."""

    preload_decoys = True


def _start_worker(decision: str, max_audio_ms: int, model_dir: str, dictionary: str, parent: int) -> None:
    global _worker_engine
    # Ctrl+C in a terminal reaches the whole process group: the node stops its workers itself (close()). Without
    # this each printed a KeyboardInterrupt traceback at every Ctrl+C of `serve`, and a pool that lived on broke.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="exit-with-parent", daemon=True).start()
    _worker_engine = _WorkerEngine(
        1, model_dir=Path(model_dir), dictionary=Path(dictionary), max_audio_ms=max_audio_ms, decision=decision
    )
    with _worker_engine.pool.borrow():  # load the model now, not on the first answer
        pass
    if _worker_engine.narrow_pool is not _worker_engine.pool:  # the telephone band's decoder (NARROW_TOPN) too
        with _worker_engine.narrow_pool.borrow():
            pass


def _ready() -> bool:
    return _worker_engine is not None


def _decode(pcm: bytes, grammar: Grammar, grammar_text: str) -> Result:
    assert _worker_engine is not None
    return _worker_engine.decode(pcm, grammar, grammar_text)


class SphinxProcessEngine(SphinxEngine):
    """pocketsphinx en-us with grammar searches in ``processes`` worker processes (see the module docstring)."""

    # (preload_decoys stays False: this process only looks words up; every worker reads the dictionary as it starts)

    def __init__(
        self, processes: int, *, decision: str = DEFAULT_DECISION, max_audio_ms: int = 30_000, **kw: Any
    ) -> None:
        if processes < 1:
            raise ValueError("SphinxProcessEngine needs at least one process")
        super().__init__(1, decision=decision, max_audio_ms=max_audio_ms, **kw)  # here: lookups only
        self.processes = processes
        self._broken = threading.Event()
        self._executor = ProcessPoolExecutor(
            processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(decision, max_audio_ms, str(self.model_path), str(self.dictionary), os.getpid()),
        )
        try:
            for future in [self._executor.submit(_ready) for _ in range(processes)]:
                future.result()
        except BaseException:
            self._executor.shutdown(wait=True, cancel_futures=True)
            raise

    def decode(self, pcm: bytes, grammar: Grammar, grammar_text: str) -> Result:
        if not self._broken.is_set():
            try:
                return self._executor.submit(_decode, pcm, grammar, grammar_text).result()
            except BrokenProcessPool as exc:  # a worker died (killed, out of memory): decode here from now on
                if not self._broken.is_set():
                    self._broken.set()
                    log.error("pocketsphinx decoding processes broke (%s): decoding in the gateway process", exc)
            except RuntimeError as exc:  # shut down: the node is stopping
                log.info("pocketsphinx decoding processes are shut down (%s): decoding here", exc)
        return super().decode(pcm, grammar, grammar_text)

    def describe(self) -> str:
        return super().describe() + f"; grammar searches in {self.processes} worker processes"

    def close(self) -> None:
        """Stop the worker processes (waits for the decodes running)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
