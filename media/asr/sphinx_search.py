"""pocketsphinx grammar searches for :mod:`media.asr.sphinx_engine`: grammar texts, pooled decoders, one search.

A listening window's phrases become a JSGF grammar (:func:`jsgf`), a spoken number a finite-state grammar
(:func:`fsg`) whose states count digits: "oh" and "zero" both say 0, "double five" is two digits, the decoder can
never go past ``max_digits`` and may end on fewer than ``min_digits`` (a no-match, not a forced extra digit). No
language model is loaded (``lm=None``). :func:`search` runs one grammar search over one utterance on a decoder
lent by a :class:`DecoderPool`; what the engine decides from the searches is in :mod:`media.asr.sphinx_engine`
and :mod:`media.asr.sphinx_decision`.

**Spoken digits** (the prompt voice of asterisk-core-sounds-en-wav, spliced,
exact-length grammars; see tests/integration/test_asr_digits.py): 4-digit
strings with "oh" 0/8 right before (four read as other numbers: "nine oh five
one" -> 9451), 6/8 with "oh" in the grammar; 7-digit strings with "oh" in a
7-digit grammar 2/10 -> 4/10; three digits in a 4-digit grammar: 3 of 5 taken
as wrong 4-digit numbers before (123 -> 1238), 1 of 5 now. In a 1-8 digit
grammar "oh" gets inserted ("three eight oh oh oh four one seven"): such
strings are rejected, but ask for an exact length. This voice's "six" is
heard as "eight" and "five" alone as "nine": the acoustic model, not the grammar.

**Decoding per utterance, not per chunk.** pocketsphinx's en-us model uses
*batch* cepstral mean normalisation; fed in 100 ms pieces it must guess the
mean, and accuracy collapsed on the test audio (menu words 8/20 right
instead of 18/20). So :class:`~media.asr.sphinx_engine.SphinxRecognizer` keeps the window's audio (bounded by
``max_audio_ms``) and decodes it in :meth:`~media.asr.sphinx_engine.SphinxRecognizer.final` with
``process_raw(full_utt=True)``: no partial hypotheses, and the whole cost
falls after the end of speech. Before every decode the CMN is set back to
the model's initial value and the feature front end is re-initialised
(``reinit_feat``: the model's ``feat.params`` turn on ``remove_noise``,
whose noise estimate otherwise carries over from the previous utterance on
that decoder), so results do not depend on the previous caller.

**Memory.** One decoder without a language model is about 27 MB RSS (92 MB with the default ``en-us.lm.bin``, which
we never load). Decoders are not thread-safe and are not tied to calls: :class:`DecoderPool` keeps at most
``pool_size`` (default: the CPU count, the number of decodes that can run at once), made on demand and lent out for
one decode.
"""

from __future__ import annotations

import math
import queue
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pocketsphinx

from media.asr.errors import AsrError
from media.asr.grammar import Grammar

#: Word segment acoustic scores from the FSG search (``bestpath=False``, what we run) are in the same
#: units as the path score. With ``bestpath=True`` they come from the lattice unshifted, 2**10 times
#: larger (SENSCR_SHIFT): that case would need a shift of 10. A test checks the scale on real audio.
SEGMENT_SCORE_SHIFT = 0

MAX_SEARCHES_PER_DECODER = 32
#: pocketsphinx's ``-topn`` (Gaussians per codebook scored per frame) when none is given.
DEFAULT_TOPN = 4

FILLER_PREFIXES = ("<", "[", "+", "(")  # <sil>, [NOISE], +SPN+, (NULL) transitions


def jsgf(grammar: Grammar, language: str = "en") -> str:
    """The JSGF text for a grammar of phrases only (digit strings go through :func:`fsg`)."""
    if grammar.digits:
        raise AsrError("a digit grammar is a finite-state grammar: use fsg()", code="asr_bad_grammar")
    alternatives = " | ".join(f"( {p} )" if " " in p else p for p in grammar.phrases)
    return f"#JSGF V1.0;\ngrammar asr;\npublic <utterance> = <phrase>;\n<phrase> = {alternatives};\n"


def fsg(grammar: Grammar, language: str = "en") -> str:
    """pocketsphinx's FSG text for a grammar with digit strings (:meth:`Grammar.digit_graph`).

    A finite-state grammar, not JSGF, because a spoken number's length counts digits and "double
    five" is two of them: JSGF would have to spell out every mix of words per length. Every state
    shares its probability evenly among its ways on, as pocketsphinx does for JSGF alternatives.
    """
    graph = grammar.digit_graph(language)
    out = Counter(a for a, _, _ in graph.arcs)
    lines = [
        "FSG_BEGIN asr",
        f"NUM_STATES {graph.n_states}",
        f"START_STATE {graph.start}",
        f"FINAL_STATE {graph.final}",
    ]
    lines += [f"TRANSITION {a} {b} {1 / out[a]:.6g}{'' if w is None else ' ' + w}" for a, b, w in graph.arcs]
    return "\n".join([*lines, "FSG_END"]) + "\n"


def _fsg_transitions(text: str) -> tuple[int, int, list[tuple[int, int, float] | tuple[int, int, float, str]]]:
    """(start, final, transitions) of :func:`fsg` text, as ``Decoder.create_fsg`` takes them."""
    start = final = 0
    transitions: list[tuple[int, int, float] | tuple[int, int, float, str]] = []
    for line in text.splitlines():
        parts = line.split()
        if parts[:1] == ["START_STATE"]:
            start = int(parts[1])
        elif parts[:1] == ["FINAL_STATE"]:
            final = int(parts[1])
        elif parts[:1] == ["TRANSITION"]:
            a, b, prob = int(parts[1]), int(parts[2]), float(parts[3])
            transitions.append((a, b, prob, parts[4]) if len(parts) > 4 else (a, b, prob))
    return start, final, transitions


@dataclass(frozen=True)
class Decoded:
    """One grammar decode: the words (fillers left out) with frames and acoustic scores."""

    words: tuple[tuple[str, int, int, float], ...]  # (word, first frame, last frame, acoustic score)
    n_frames: int
    score: float = -math.inf  # the whole path's score (language weights, silences included), decoder units

    @property
    def texts(self) -> list[str]:
        return [w.split("(")[0] for w, _, _, _ in self.words]  # "zero(2)" is an alternate pronunciation


@dataclass
class Pooled:
    decoder: pocketsphinx.Decoder
    initial_cmn: str
    searches: OrderedDict[str, str] = field(default_factory=OrderedDict)  # jsgf text -> search name
    counter: int = 0

    def activate(self, grammar_text: str) -> None:
        """Search with ``grammar_text`` (:func:`jsgf` or :func:`fsg` text), made once per decoder."""
        name = self.searches.get(grammar_text)
        if name is None:
            self.counter += 1
            name = f"g{self.counter}"
            if grammar_text.startswith("FSG_BEGIN"):
                start, final, transitions = _fsg_transitions(grammar_text)
                self.decoder.add_fsg(name, self.decoder.create_fsg(name, start, final, transitions))
            else:
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

    def __init__(
        self,
        size: int,
        hmm: Path,
        dictionary: Path,
        lm: Path | None = None,
        *,
        topn: int | None = None,
        mllr: Path | None = None,
    ) -> None:
        """``topn``: how many Gaussians of each codebook score a frame (pocketsphinx's ``-topn``; None: its default,
        DEFAULT_TOPN). ``mllr``: an MLLR transform of the model's means (pocketsphinx's ``-mllr``; None: none)."""
        if size < 1:
            raise ValueError("DecoderPool size must be at least 1")
        self.size = size
        self.topn = topn
        self.mllr = mllr
        self._hmm, self._dict, self._lm = hmm, dictionary, lm
        self._idle: queue.LifoQueue[Pooled] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._made = 0

    @property
    def made(self) -> int:
        """How many decoders exist (each about 27 MB)."""
        return self._made

    def _make(self) -> Pooled:
        try:
            decoder = pocketsphinx.Decoder(
                hmm=str(self._hmm),
                dict=str(self._dict),
                lm=str(self._lm) if self._lm is not None else None,
                loglevel="FATAL",
                bestpath=False,
                **({} if self.topn is None else {"topn": self.topn}),
                **({} if self.mllr is None else {"mllr": str(self.mllr)}),
            )
        except (RuntimeError, ValueError) as exc:
            raise AsrError(
                f"pocketsphinx cannot load the model at {self._hmm}: {exc}", code="asr_model_load_failed"
            ) from exc
        return Pooled(decoder, decoder.get_cmn())

    @contextmanager
    def borrow(self) -> Iterator[Pooled]:
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


def search(pool: DecoderPool, pcm: bytes, grammar_text: str) -> Decoded:
    """One grammar search over ``pcm`` on a decoder of ``pool`` (blocks: CPU, GIL held inside pocketsphinx)."""
    with pool.borrow() as item:
        d = item.decoder
        item.activate(grammar_text)
        d.reinit_feat()  # the noise-removal estimate (remove_noise, from feat.params) is per decoder
        d.set_cmn(item.initial_cmn)
        d.start_utt()
        d.process_raw(pcm, full_utt=True)
        d.end_utt()
        hyp = d.hyp()
        segments = list(d.seg() or []) if hyp is not None else []
        n_frames = d.n_frames()
        logbase = math.log(float(d.config["logbase"]))
    # hyp().score comes back as logbase ** score; a path too poor to represent is -inf
    score = math.log(hyp.score) / logbase if hyp is not None and hyp.score > 0 else -math.inf
    words = tuple(
        (
            s.word,
            s.start_frame,
            s.end_frame,
            ((math.log(s.ascore) / logbase) if s.ascore > 0 else -math.inf) / (1 << SEGMENT_SCORE_SHIFT),
        )
        for s in segments
        if not s.word.startswith(FILLER_PREFIXES)
    )
    return Decoded(words, n_frames, score)
