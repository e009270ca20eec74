"""A call's end closes its speech listener while its flow runner may still be on its way to the next step.

The runner learns of the hang-up from the ``Disconnected`` the call's end posts; until it handles it, it can
still execute a ``Listen`` it had already decided on. That ``Listen`` must open nothing (the call is over) rather
than raise "the speech listener is closed", which failed the call with "call failed" and lost the flow's hang-up
exit from the flow path reports (seen on Python 3.13 in test_reports_browser).
"""

from __future__ import annotations

import numpy as np

from gateway.flows.call_speech import CallSpeech
from ivr.actions import Listen, ListenChoice, ListenMode
from ivr.events import Event
from media.asr.listener import SpeechListener
from media.asr.pool import RecognitionPool
from media.asr.sphinx_engine import SphinxEngine


async def test_a_listen_after_the_call_closed_its_speech_opens_nothing() -> None:
    pool = RecognitionPool(1)
    try:
        listener = SpeechListener(SphinxEngine(pool_size=1), pool, label="closed-call")
        posted: list[Event] = []
        speech = CallSpeech(listener, post=posted.append, on_speech=lambda: None, on_reopen=lambda: None)
        menu = Listen(
            "l1", ListenMode.MENU, 5.0, choices=(ListenChoice("1", "billing", ("billing",)),), speech_hints=("billing",)
        )
        speech.listen(menu)  # a window while the call lives
        await speech.close()  # the call ended
        speech.listen(menu)  # the runner's next step, decided before it saw the hang-up: no window, no error
        speech.feed(np.zeros(960, dtype=np.int16))
        assert posted == []
        assert speech.now_ms == 20
    finally:
        pool.shutdown()
