"""The offline English default: pocketsphinx 5 with the en-us model bundled in its wheel.

No English Vosk model can be installed everywhere, so when none is
configured the gateway recognises English with the acoustic model, the
CMU dictionary and a JSGF grammar built from the listening window's phrases
(:func:`jsgf`). No language model is loaded (``lm=None``).

**Decoding per utterance, not per chunk.** pocketsphinx's en-us model uses
*batch* cepstral mean normalisation; fed in 100 ms pieces it must guess the
mean, and accuracy collapsed on the test audio (menu words 8/20 right
instead of 18/20). So :class:`SphinxRecognizer` keeps the window's audio (bounded by
``max_audio_ms``) and decodes it in one ``process_raw(full_utt=True)`` call
in :meth:`~SphinxRecognizer.final`: no partial hypotheses, and the whole
cost (about 5 ms of CPU per second of audio here) falls after the end of
speech. The CMN is set back to the model's initial value before every
utterance, so results do not depend on the previous caller.

**The GIL.** ``process_raw`` holds the GIL while it runs: other Python
threads, the event loop included, wait that long once per utterance
(measured 6 ms for a 1.4 s answer, 15 ms for 4.9 s). If that ever matters,
move the decoder pool into worker processes; the interface stays the same.

**Memory.** One decoder without a language model is about 27 MB RSS (92 MB
with the default ``en-us.lm.bin``, which we never load). Decoders are not
thread-safe and are not tied to calls: :class:`DecoderPool` keeps at most
``pool_size`` (default: the CPU count, the number of decodes that can run
at once), made on demand and lent out for one decode.

**Confidence.** A JSGF search always ends on some grammar path, and
pocketsphinx's path posterior was useless for rejection (an out-of-grammar
"hello there" came out as "billing" with posterior 0.998). Two measures
computed from the word segmentation separate right from wrong on the
espeak-ng test set (5 voices, in-grammar words, 8 out-of-grammar phrases,
white noise):

* *coverage*: the share of the loud frames (within 35 dB of the loudest)
  that the recognised words span. An out-of-grammar sentence forced onto a
  one-word phrase leaves most of its speech to silence fillers (median
  0.25); a right answer covers most of it (0.64-1.0, median 0.88).
* *fit*: the words' mean acoustic score per frame, in the decoder's score
  units (pocketsphinx scores each frame relative to its best senone, so 0
  is a perfect fit): right words about -13 to -60, forced ones down to -137.

``confidence = min(clip((coverage - 0.52) / 0.48), clip((fit + 72) / 32))``,
so 0.5 is coverage 0.76 with fit -56: the operating point chosen on that
set, and :attr:`SphinxEngine.min_confidence`. Through the listener it
accepted 19/20 menu words and 9/10 yes/no (the misses were no-matches),
routed 1/40 out-of-grammar phrases in each of those grammars, and no
white noise (-40 to -10 dBFS: empty or confidence 0). Digit strings are
the weak spot: a forced digit string covers the speech and fits about as
well as a right one, so 7/20 wrong strings still passed and 8/40
out-of-grammar phrases became digits. Constrain the length, confirm the
number, or prefer DTMF.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pocketsphinx

from media.asr.engine import SAMPLE_RATE, Partial, Result, Word
from media.asr.errors import AsrError
from media.asr.grammar import Grammar, digit_words, normalize

log = logging.getLogger(__name__)

#: Word segment acoustic scores from the FSG search (``bestpath=False``, what we run) are in the same
#: units as the path score. With ``bestpath=True`` they come from the lattice unshifted, 2**10 times
#: larger (SENSCR_SHIFT): that case would need a shift of 10. A test checks the scale on real audio.
SEGMENT_SCORE_SHIFT = 0
FRAME_SAMPLES = SAMPLE_RATE // 100  # pocketsphinx's default frame rate: 100 frames per second
LOUD_FRAME_RANGE_DB = 35.0
#: Frames quieter than this are never speech, however quiet the loudest one is.
LOUD_FRAME_FLOOR_DBFS = -60.0
MAX_SEARCHES_PER_DECODER = 32

_FILLER_PREFIXES = ("<", "[", "+", "(")  # <sil>, [NOISE], +SPN+, (NULL) transitions


def jsgf(grammar: Grammar, language: str = "en") -> str:
    """The JSGF text for ``grammar``: its phrases, and a ``min..max`` digit string if asked for."""
    rules: list[str] = []
    top: list[str] = []
    if grammar.phrases:
        alternatives = " | ".join(f"( {p} )" if " " in p else p for p in grammar.phrases)
        rules.append(f"<phrase> = {alternatives};")
        top.append("<phrase>")
    if grammar.digits:
        words = list(digit_words(language))
        if not words:
            raise AsrError(f"no digit words for language {language!r}", code="asr_bad_grammar")
        rules.append(f"<digit> = {' | '.join(words)};")
        optional = ""
        for _ in range(grammar.max_digits - grammar.min_digits):
            optional = f"[ <digit> {optional}]" if optional else "[ <digit> ]"
        body = " ".join(["<digit>"] * grammar.min_digits) + (f" {optional}" if optional else "")
        rules.append(f"<digits> = {body};")
        top.append("<digits>")
    lines = ["#JSGF V1.0;", "grammar asr;", f"public <utterance> = {' | '.join(top)};", *rules]
    return "\n".join(lines) + "\n"


def _clip01(x: float) -> float:
    return 0.0 if math.isnan(x) else min(1.0, max(0.0, x))


def confidence_from(coverage: float, fit: float) -> float:
    """The calibrated mapping described in the module docstring."""
    return _clip01(min((coverage - 0.52) / 0.48, (fit + 72.0) / 32.0))


def loud_frames(pcm: bytes, n_frames: int) -> npt.NDArray[np.bool_]:
    """Which 10 ms frames are within :data:`LOUD_FRAME_RANGE_DB` of the loudest (and above the floor)."""
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    usable = min(n_frames, len(x) // FRAME_SAMPLES)
    if usable <= 0:
        return np.zeros(n_frames, dtype=bool)
    frames = x[:usable * FRAME_SAMPLES].reshape(usable, FRAME_SAMPLES)
    db = 10.0 * np.log10(np.mean(frames * frames, axis=1) / (32768.0 * 32768.0) + 1e-12)
    threshold = max(float(db.max()) - LOUD_FRAME_RANGE_DB, LOUD_FRAME_FLOOR_DBFS)
    out = np.zeros(n_frames, dtype=bool)
    out[:usable] = db > threshold
    return out



@dataclass
class _Pooled:
    decoder: pocketsphinx.Decoder
    initial_cmn: str
    searches: OrderedDict[str, str] = field(default_factory=OrderedDict)  # jsgf text -> search name
    counter: int = 0

    def activate(self, grammar_text: str) -> None:
        name = self.searches.get(grammar_text)
        if name is None:
            self.counter += 1
            name = f"g{self.counter}"
            self.decoder.add_jsgf_string(name, grammar_text)
            self.searches[grammar_text] = name
            if len(self.searches) > MAX_SEARCHES_PER_DECODER:
                _, old = self.searches.popitem(last=False)
                self.decoder.remove_search(old)
        else:
            self.searches.move_to_end(grammar_text)
        self.decoder.activate_search(name)


class DecoderPool:
    """At most ``size`` decoders, made on first need, each lent to one thread at a time."""

    def __init__(self, size: int, hmm: Path, dictionary: Path) -> None:
        if size < 1:
            raise ValueError("DecoderPool size must be at least 1")
        self.size = size
        self._hmm, self._dict = hmm, dictionary
        self._idle: queue.LifoQueue[_Pooled] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._made = 0

    @property
    def made(self) -> int:
        """How many decoders exist (each about 27 MB)."""
        return self._made

    def _make(self) -> _Pooled:
        try:
            decoder = pocketsphinx.Decoder(hmm=str(self._hmm), dict=str(self._dict), lm=None,
                                           loglevel="FATAL", bestpath=False)
        except (RuntimeError, ValueError) as exc:
            raise AsrError(f"pocketsphinx cannot load the model at {self._hmm}: {exc}",
                           code="asr_model_load_failed") from exc
        return _Pooled(decoder, decoder.get_cmn())

    @contextmanager
    def borrow(self) -> Iterator[_Pooled]:
        """A decoder for the duration of the block; waits when all ``size`` are lent out."""
        try:
            item = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                make = self._made < self.size
                if make:
                    self._made += 1
            if make:
                try:
                    item = self._make()
                except BaseException:
                    with self._lock:
                        self._made -= 1
                    raise
            else:
                item = self._idle.get()
        try:
            yield item
        finally:
            self._idle.put(item)


class SphinxEngine:
    """pocketsphinx en-us from the wheel; thread-safe (decoders come from the pool)."""

    name = "pocketsphinx"
    language = "en"
    #: Calibrated operating point, see the module docstring.
    min_confidence = 0.5

    def __init__(self, pool_size: int, *, model_dir: Path | None = None, dictionary: Path | None = None,
                 max_audio_ms: int = 30_000) -> None:
        self.model_path = Path(model_dir or pocketsphinx.get_model_path("en-us/en-us")).resolve()
        self.dictionary = Path(dictionary or pocketsphinx.get_model_path("en-us/cmudict-en-us.dict")).resolve()
        if not (self.model_path / "mdef").is_file() or not self.dictionary.is_file():
            raise AsrError(f"no pocketsphinx acoustic model at {self.model_path} or dictionary at {self.dictionary}",
                           code="asr_model_not_found")
        self.max_audio_ms = max_audio_ms
        self.pool = DecoderPool(pool_size, self.model_path, self.dictionary)

    def unknown_words(self, words: Iterable[str]) -> list[str]:
        out: dict[str, None] = {}
        with self.pool.borrow() as item:
            for phrase in words:
                for word in normalize(phrase).split():
                    if word not in out and item.decoder.lookup_word(word) is None:
                        out[word] = None
        return list(out)

    def recognizer(self, grammar: Grammar | None = None) -> SphinxRecognizer:
        if grammar is None:
            raise AsrError("pocketsphinx without a language model needs a grammar", code="asr_bad_grammar")
        return SphinxRecognizer(self, grammar)

    def describe(self) -> str:
        return (f"pocketsphinx en model {self.model_path} dictionary {self.dictionary.name} "
                f"(JSGF grammars, up to {self.pool.size} decoders of about 27 MB)")

    def usable_grammar(self, grammar: Grammar) -> tuple[Grammar, str]:
        """``grammar`` without phrases holding unknown words, and its JSGF text."""
        unknown = self.unknown_words(grammar.words(self.language))
        usable = grammar.without(unknown)
        if unknown:
            log.warning("pocketsphinx: dropping grammar phrases with words missing from the dictionary: %s",
                        ", ".join(unknown))
        if usable is None:
            raise AsrError(f"no grammar phrase is left once the unknown words {unknown} are removed",
                           code="asr_unknown_words")
        return usable, jsgf(usable, self.language)

    def decode(self, pcm: bytes, grammar: Grammar, grammar_text: str) -> Result:
        """One utterance, start to end, on a pooled decoder (blocks: CPU, GIL held inside pocketsphinx)."""
        with self.pool.borrow() as item:
            d = item.decoder
            item.activate(grammar_text)
            d.set_cmn(item.initial_cmn)
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
            hyp = d.hyp()
            segments = list(d.seg() or []) if hyp is not None else []
            n_frames = d.n_frames()
            logbase = math.log(float(d.config["logbase"]))
        heard_words = [s for s in segments if not s.word.startswith(_FILLER_PREFIXES)]
        if not heard_words:
            return Result.nothing()
        texts = [s.word.split("(")[0] for s in heard_words]  # "zero(2)" is an alternate pronunciation
        heard = " ".join(texts)
        match = grammar.match(texts, self.language)
        if match is None:
            return Result.nothing(heard, tuple(Word(t, 0.0) for t in texts))
        loud = loud_frames(pcm, n_frames)
        spanned = np.zeros(n_frames, dtype=bool)
        total, frames = 0.0, 0
        for s in heard_words:
            spanned[s.start_frame:s.end_frame + 1] = True
            score = (math.log(s.ascore) / logbase) if s.ascore > 0 else -math.inf
            total += score / (1 << SEGMENT_SCORE_SHIFT)
            frames += s.end_frame - s.start_frame + 1
        coverage = float((spanned & loud).sum()) / max(int(loud.sum()), 1)
        fit = total / max(frames, 1)
        confidence = confidence_from(coverage, fit)
        log.debug("pocketsphinx %r coverage %.2f fit %.1f confidence %.2f", heard, coverage, fit, confidence)
        return Result(match.text, confidence, tuple(Word(t, confidence) for t in texts), heard, match.digits)


class SphinxRecognizer:
    """Buffers one utterance; decodes it in :meth:`final`. See the module docstring for why."""

    def __init__(self, engine: SphinxEngine, grammar: Grammar) -> None:
        self._engine = engine
        self._requested = grammar
        self._grammar, self._text = engine.usable_grammar(grammar)
        self._audio = bytearray()
        self._max_bytes = engine.max_audio_ms * SAMPLE_RATE // 1000 * 2
        self.truncated = False

    def accept(self, pcm16k: bytes) -> Partial | None:
        room = self._max_bytes - len(self._audio)
        if len(pcm16k) > room:
            self.truncated = True
        self._audio += pcm16k[:max(room, 0)]
        return None

    def final(self) -> Result:
        audio, self._audio = bytes(self._audio), bytearray()
        self.truncated = False
        if len(audio) < 2 * FRAME_SAMPLES * 5:  # under 50 ms: nothing to decode
            return Result.nothing()
        return self._engine.decode(audio, self._grammar, self._text)

    def reset(self, grammar: Grammar | None = None) -> None:
        self._audio = bytearray()
        self.truncated = False
        if grammar is not None and grammar != self._requested:
            self._requested = grammar
            self._grammar, self._text = self._engine.usable_grammar(grammar)

    def close(self) -> None:
        self._audio = bytearray()
