"""Speech recognition: a streaming recognizer interface, Vosk and pocketsphinx engines, VAD, models.

Modules (one concept each; none imports ``gateway`` or ``ivr``; nothing
heavy happens at import: Vosk and pocketsphinx load when an engine is made):

- ``grammar``: :class:`Grammar` (allowed phrases, digit strings) and exact matching of results.
- ``engine``: the :class:`SpeechEngine` / :class:`Recognizer` protocols, :class:`Result`, :class:`Partial`.
- ``vosk_engine``: Vosk behind that interface (model cache, grammar JSON, garbage words, second view).
- ``sphinx_engine``: the offline English default, pocketsphinx en-us: comfort noise, views, confidence, decisions.
- ``sphinx_search``: its grammar texts (JSGF, digit FSG), the decoder pool and one grammar search.
- ``sphinx_decision``, ``sphinx_decoys``: the menu decisions it can take and what each measured; near decoys.
- ``sphinx_procs``: the same engine with its grammar searches in worker processes (a search holds the GIL).
- ``loudness``: frame levels, noise floor, loud (speech) frames and comfort noise, for the confidences.
- ``vad``: webrtcvad frame classifier (reset every window) and the pure endpointing state machine.
- ``silero_vad``: Silero's neural VAD behind the same classifier interface (``--vad silero``), :class:`VadKind`.
- ``pool``: the bounded worker pool (one per process) and per-call serial lanes.
- ``listener``: :class:`SpeechListener`, what a call uses per listening window.
- ``selection``: :class:`SpeechEngines`, which engine a flow gets; :func:`default_engine`.
- ``wyoming_engine``: a Wyoming speech server (Whisper, ...) in front of a local engine, which answers
  when the server fails; transcripts are matched to the grammar here.
- ``models``: the Vosk model catalogue, installer (resume, verify, atomic unpack) and resolution.
- ``cli``: ``models list | install NAME | path NAME``.
- ``errors``: :class:`AsrError` and its subclasses.
"""

from media.asr.engine import Partial, Recognizer, Result, SpeechEngine, Word
from media.asr.errors import AsrError, ModelInstallError, ModelNotFoundError
from media.asr.grammar import Grammar
from media.asr.listener import NoMatch, NoMatchReason, PartialText, Recognized, SpeechListener
from media.asr.pool import RecognitionPool
from media.asr.selection import SpeechEngines, default_engine
from media.asr.silero_vad import VadKind
from media.asr.vad import EndReason, NoInputTimeout, SpeechEnded, SpeechStarted, VadSettings

__all__ = [
    "AsrError",
    "EndReason",
    "Grammar",
    "ModelInstallError",
    "ModelNotFoundError",
    "NoInputTimeout",
    "NoMatch",
    "NoMatchReason",
    "Partial",
    "PartialText",
    "RecognitionPool",
    "Recognized",
    "Recognizer",
    "Result",
    "SpeechEnded",
    "SpeechEngine",
    "SpeechEngines",
    "SpeechListener",
    "SpeechStarted",
    "VadKind",
    "VadSettings",
    "Word",
    "default_engine",
]
