"""The offline English default: pocketsphinx 5 with the en-us model bundled in its wheel.

No English Vosk model can be installed everywhere, so when none is configured the gateway recognises English
with the acoustic model, the CMU dictionary and a grammar built from the listening window's phrases (JSGF) or
digit strings (a finite-state grammar), searched over the whole utterance: :mod:`media.asr.sphinx_search`. This
module decides from those searches: comfort noise, views, confidence, decisions.

**Comfort noise.** The model was trained on recordings that always have a
background. On the listener's windows (digital silence around the speech,
or a very quiet line) it confused words: 51 % of 4-digit strings decoded
right on the clean bench audio, against 94 % once white noise is added so
that the floor sits 30 dB under the speech level
(:func:`~media.asr.loudness.with_noise_floor`; seeded, so decoding stays
deterministic; a line that is already that noisy is left alone). The same
step took menu words on the 8 kHz phone band from 69 % to 97 % decoded right.

**Wideband.** The en-us model is a 16 kHz model (25 mel filters up to 6800 Hz) and a WebRTC caller's Opus
audio is wideband, but white comfort noise 30 dB under the speech level buries the fricatives' 4-8 kHz band:
on the 16 kHz recordings of the human set (Allison Smith's prompts from Debian's asterisk-core-sounds-en-g722)
"six" was still heard as "eight" (first view 38/48 4-digit strings right with the white floor 30 dB under, 23/48
at 24 dB; 48/48 at 40 or 50 dB or with no noise). So for wideband speech (:func:`~media.asr.loudness.is_wideband`:
its loud frames carry energy above 4.2 kHz; 8 kHz audio, upsampled or band-passed, does not) the comfort noise
keeps its level below 4.2 kHz and only its band above is lowered, to WIDE_HIGH_BAND_BELOW_SPEECH_DB (50, the
second view 40) under the speech. White noise 50/40 or 40/32 dB under the speech was measured too: digits
as good, but in the 20 dB noise condition (noise around the speech only, digital silence in the rest of the
window) the noise frames then count as speech for the coverage and menu words fell to 5 % right; a low-band floor
36/30 dB misrouted more digit strings (fit part, clean: 1 of 8 "oh" strings). Held-out human set, clean
wideband, two views: 4-digit strings 44 -> 100 % right (misroute 19 -> 0 %), with "oh" 38 -> 75 % (13 -> 0 %),
7 digits 29 -> 100 % (14 -> 0 %), menu words 91 -> 91 %; see docs/benchmarks.md's speech section. The telephone band (8 kHz)
keeps its "six" -> "eight" (what was tried for it is in :mod:`media.asr.sphinx_decision`), so there a digit
string with an "eight" is capped at NARROW_UNSURE_CAP: a no-match, or read back in a ``confirm`` gather (chosen
on the fit part over capping "eight" and "nine": held-out 8 kHz strings read as a different number 38-71 % -> 0 %,
right 14-56 % -> 14-38 %).

**Noisy lines.** In steady noise the two views agree on wrong digit strings as readily as on right ones: on the
human set with white noise 10 dB under the speech, held-out, 12-29 % of the strings were taken as a different
number and 0-6 % right (fit part: up to 75 % wrong). So a digit string from a window whose speech is less than
NOISY_SNR_DB (22) over its own background (:func:`snr_db`: 16-20 dB there, 25-30 dB with noise 20 dB under, 39-110
dB on clean, quiet and telephone-band recordings) is capped at NARROW_UNSURE_CAP as well: never taken without a
read-back; a flow's ``speech_fallback: keys`` then offers the keypad. Menu words are not capped (at 10 dB they
route 0.7-1.6 % of words outside the menu, within the 2 % target).

**Two views.** An in-grammar result with a confidence above 0 is decoded a second time with other comfort noise
(floor 24 dB under the speech, another seed) and only stands if that decode gives the same words; otherwise its
confidence is 0. Marginal hypotheses flip under that perturbation (on the bench: all the wrong digit strings of
clean audio, e.g. "nine zero five one" heard as 1051), right ones almost never do.

**Menu decisions** (:mod:`media.asr.sphinx_decision` records what each measured): ``fitted`` (the default: per
band, wideband or telephone band, a refitted gate over the two views: no clean bonus; on wideband audio an end
view; on the telephone band ``-topn`` 8, the telephone band's MLLR transform (TELEPHONE_MLLR), threshold 0.54 and
the near decoys under 0.75), ``two-view`` (the default before), ``garbage`` (a
flow's ``speech_strictness: strict``), ``banded``, ``runner-up``, ``decoys`` and ``end-view``.

**Confidence** (of the first view; calibrated on ``./bin/bench asr``,
espeak-ng voices en-us, en-gb, en-us+f3, en-us+m3 at 130-190 wpm, clean,
8 kHz phone band, white noise 20 and 10 dB under the speech). A JSGF search
always ends on some grammar path, and pocketsphinx's path posterior was
useless for rejection (an out-of-grammar "hello there" came out as
"billing" with posterior 0.998). Two measures from the word segmentation:

* *coverage*: the share of the loud frames that the recognised words span.
  Loud means 10 dB over the window's noise floor (a low percentile of its
  frame levels) and within 35 dB of the loudest frame
  (:func:`~media.asr.loudness.loud_frames`). Measured against the loudest
  frame alone, steady noise 10-20 dB under the speech counted as speech,
  right answers covered about a third of it and nothing was recognised in
  noise at all (0 % of 264 in-grammar trials, although the right words were
  decoded). Right answers now cover 0.9-1.0; an out-of-grammar sentence
  forced onto a one-word phrase leaves much of its speech to silence.
* *fit*: the words' mean acoustic score per frame, in the decoder's score
  units (relative to the best senone of each frame, so 0 is a perfect fit).
  With the comfort noise, right menu and yes/no words score about -8 to -25
  and right digit strings -25 to -37; forced ones -18 to -50.

``confidence = clip(min(0.5 + (coverage - 0.70) / 0.60, 0.5 + (fit + 25) / 30))``,
so 0.5 (:attr:`SphinxEngine.min_confidence`) is coverage 0.70 with fit -25.
On a quiet line (the utterance's own background 30 dB or more under its
speech) an agreed confidence gets +0.05 (CLEAN_BONUS; ``fitted``, the default, keeps it for digit strings only:
see "Refitted gates" in :mod:`media.asr.sphinx_decision`): the out-of-grammar
answers that scored 0.45-0.50 only did so in noise. With it, clean / phone:
menu 97/0, 53/0 %; yes/no 100/0, 100/0 %; 4-digit strings 53/0, 17/1.4 %;
the noisy conditions unchanged. Without it (the figures below):
On the bench (2000 trials) that gives, correct / misroute per condition
(clean, phone, 20 dB, 10 dB): menu 94/0, 44/0, 92/0, 89/0 %; yes/no 100/0,
83/0, 100/0, 100/0 %; 4-digit strings 46/0, 13/1.4, 44/0, 28/1.4 %;
out-of-grammar phrases, silence and noise bursts routed at most 2.0 % in any
grammar and condition (en-us+f3 "hello there" -> billing). Before: menu
89/0, 47/0, 0/0, 0/0; digits 51/24, 11/25, 0/0, 0/0; out of grammar up to
9.9 % (digits) and 5.9 % (menu). A fit threshold of -26 instead gives menu
97 % on clean audio and digits 51 %, with two rows at exactly 2.0 %
misroute; -27 routes 8 % of wrong digit strings in noise.

Digit strings stay the weak spot: right strings fit worse than right menu
words, so half of them are rejected to keep wrong numbers out. Constrain
the length, read the number back (below), or prefer DTMF.

**Read-back** (:attr:`SphinxEngine.confirm_confidence`, 0.2). A gather with ``confirm`` reads the answer back and
takes it only on the caller's yes, so a wrong number costs a turn instead of a wrong account; such a window is
judged at 0.2 instead of 0.5 (the two views must still agree). A menu with ``confirm: speech`` is judged so too, and
asks back every answer under 0.5 (``python -m bench.asr_refit --ask-back``: docs/benchmarks.md, "Asking back"). ``./bin/bench asr`` rows ``digits4-readback``, right
/ wrong 4-digit strings read back, clean, phone band, 20 dB, 10 dB: 88/0, 28/32, 86/0, 61/32 % (taken at 0.5: 51/0,
15/1, 44/0, 28/1); out-of-grammar speech read back as a number: 1-3 %. So on a quiet line most spoken numbers now
get through with one yes, while on a bad line a third of the read-backs are wrong and cost the caller a "no" (never
a wrong account). On five voices the threshold was never fitted to (en-us+m1, en-us+f2, en-gb-x-rp, en-029,
en-us+m5; measured offline on their windows): 74/3 % clean. What limits digits is the decoding itself, not the gate:
the first view is right on 94 % of clean bench strings but 87 % on the other five voices ("nine" heard as "one" at
190 wpm, "six" as "three"); wider beams, ``topn`` 8, other word insertion or silence penalties and majority votes
over five perturbed views moved that by at most 4 points. Perturbed second views (5 ms later, 5 % slower or faster)
were also measured as extra checks: wrong strings mostly survive them, and they cost right ones 2-5 points.

**Tried and not kept** (measured on the same bench audio): a garbage loop
in the grammar competing with the phrases, as phones (39 one-phone words,
4-5x the decoding time) or as the 100-300 commonest words of ``en-us.lm.bin``
(10-50x), took the in-grammar words too (menu 0-25 % right at every
weight tried); the ``+SPN+`` speech filler as garbage caught nothing; a
free decode with the bundled LM (92 MB per decoder, 265 ms per utterance;
measured before the comfort noise) heard "billing" as "really" and "the
real", so disagreement rejects right answers; lattice posteriors (``bestpath=True``) came back as 1.0 or with
no hypothesis; a phone-loop likelihood ratio and phone durations from a
forced alignment did not separate right from forced words better than the
fit did.

**Cost.** Measured on the 1713 bench windows that reach the decoder (about 2 s each, this 2-core machine): 18 ms per
utterance before (9 ms per second of audio), 30 ms now (15 ms per second): the comfort noise makes the search a
little wider and most in-grammar results get the second decode (p95 31 -> 61 ms). ``runner-up``, ``banded``,
``decoys`` and ``end-view`` add one more search for some agreed menu answers; ``fitted`` (the default) one on
wideband audio (the end view) and one on the telephone band (the decoys under 0.75): human set,
held-out, decode p50 / p95 at load 7-10, two-view -> fitted, clean menu words 45 / 88 -> 68 / 128 ms, telephone
band 63 / 195 -> 145 / 542 ms (then with the end view and the decoys under 0.58); with the telephone band's MLLR transform and its gate (no end view, the decoys under
0.75: one more search at most) 219 / 632 -> 123 / 406 ms at load 10-13. ``process_raw`` holds the GIL while it runs: other
threads, the event loop included, wait that long, in one or two stretches per utterance
(:mod:`media.asr.sphinx_procs` moves the searches into worker processes).

**Searches** (:mod:`media.asr.sphinx_search`): the grammar texts (:func:`jsgf`, :func:`fsg`, spoken digits), decoding
per utterance, not per chunk, and the pooled decoders (:class:`DecoderPool`, memory) are described there.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pocketsphinx

from media.asr.engine import SAMPLE_RATE, Partial, Result, Word
from media.asr.errors import AsrError
from media.asr.grammar import Grammar, normalize
from media.asr.loudness import (
    FRAME_SAMPLES,
    SPEECH_PERCENTILE,
    frame_levels,
    is_wideband,
    loud_frames,
    noise_floor,
    with_noise_floor,
)
from media.asr.sphinx_decision import (
    BANDED,
    DECISIONS,
    DECOY_BAND,
    DECOY_RULE,
    DECOYS,
    DEFAULT_DECISION,
    END_CUT_MS,
    END_VIEW,
    FITTED,
    FITTED_NARROW,
    FITTED_NARROW_ADAPTED,
    FITTED_WIDE,
    GARBAGE,
    GARBAGE_BAND,
    GARBAGE_WORDS,
    MIN_MARGIN,
    RUNNER_UP,
    SURE_FIT,
    Gate,
    garbage_jsgf,
    phone_distance,
    runner_up_margin,
    runner_up_text,
)
from media.asr.sphinx_decoys import Decoys
from media.asr.sphinx_search import (
    DEFAULT_TOPN,
    FILLER_PREFIXES,
    MAX_SEARCHES_PER_DECODER,
    Decoded,
    DecoderPool,
    fsg,
    jsgf,
    search,
)

log = logging.getLogger(__name__)

#: Comfort noise (:func:`~media.asr.loudness.with_noise_floor`): the floor is raised to this many dB
#: under the speech level for the first view, and to CHECK_FLOOR_BELOW_SPEECH_DB (another noise
#: seed) for the second view, which must decode to the same words.
FLOOR_BELOW_SPEECH_DB = 30.0
CHECK_FLOOR_BELOW_SPEECH_DB = 24.0
FLOOR_SEED, CHECK_FLOOR_SEED = 0, 2
#: Wideband speech (:func:`~media.asr.loudness.is_wideband`: energy above 4.2 kHz, a WebRTC caller) gets the same
#: comfort noise below 4.2 kHz but only this far under the speech above it (first view, second view): white noise
#: 30 dB under the speech buries the fricatives' 4-8 kHz band ("six" heard as "eight"); see "Wideband" above.
WIDE_HIGH_BAND_BELOW_SPEECH_DB = 50.0
WIDE_CHECK_HIGH_BAND_BELOW_SPEECH_DB = 40.0
#: Confidence 0.5 (the default threshold) is coverage COVERAGE_AT_HALF with fit FIT_AT_HALF.
COVERAGE_AT_HALF, COVERAGE_SPAN = 0.70, 0.60
FIT_AT_HALF, FIT_SPAN = -25.0, 30.0
#: An utterance whose own background is this far under its speech (a quiet line) gets CLEAN_BONUS added to an
#: agreed confidence: out-of-grammar speech only ever passed the 0.45-0.50 band in noise (bench asr: at a 0.45
#: gate 3.0 % menu and 2.8 % digit misroutes at 10 dB SNR, 0-1.4 % in clean and telephone-band audio).
CLEAN_SNR_DB = 30.0
CLEAN_BONUS = 0.05
#: Telephone-band (not wideband) digit strings holding one of these digits are capped at NARROW_UNSURE_CAP: under
#: min_confidence (a no-match), over confirm_confidence (a read-back gather still reads them back). On 8 kHz audio
#: "six" is heard as "eight" with as high a confidence as a right string (0.62-0.76); see "Wideband" above.
NARROW_UNSURE_DIGITS = "8"
NARROW_UNSURE_CAP = 0.45
#: A digit string heard less than this far over its own background (:func:`snr_db`) is capped at NARROW_UNSURE_CAP
#: too: a no-match, or read back in a ``confirm`` gather. Human set, white noise 10 dB under the speech: windows
#: measure 16-20 dB and 12-75 % of their strings were taken as a different number (0-20 % right); 20 dB noise
#: measures 25-30 dB (0 % wrong); clean, quiet and telephone-band recordings 39-110 dB. See "Noisy lines" above.
NOISY_SNR_DB = 22.0
#: pocketsphinx's ``-topn`` for telephone-band (not wideband) utterances; see "The telephone band" in
#: :mod:`media.asr.sphinx_decision`.
NARROW_TOPN = 8
#: The telephone band's MLLR transform of the en-us model's means (pocketsphinx's ``-mllr``), estimated by
#: ``python -m bench.asr_adapt`` from the human set's fit-part 8 kHz recordings (Debian's asterisk-core-sounds-en-wav,
#: CC-BY-SA 3.0: telephone_band.mllr.LICENSE); see "Telephone-band adaptation" in :mod:`media.asr.sphinx_decision`.
TELEPHONE_MLLR = Path(__file__).with_name("telephone_band.mllr")


def snr_db(pcm: bytes) -> float:
    """How far the utterance's speech level is above its own background, in dB (before any comfort noise)."""
    levels = frame_levels(pcm)
    if len(levels) == 0:
        return 0.0
    return float(np.percentile(levels, SPEECH_PERCENTILE)) - noise_floor(levels)


def _clip01(x: float) -> float:
    return 0.0 if math.isnan(x) else min(1.0, max(0.0, x))


def confidence_from(coverage: float, fit: float) -> float:
    """The calibrated mapping described in the module docstring: 0.5 at coverage 0.70 with fit -25."""
    return _clip01(min(0.5 + (coverage - COVERAGE_AT_HALF) / COVERAGE_SPAN, 0.5 + (fit - FIT_AT_HALF) / FIT_SPAN))


def measure(pcm: bytes, decoded: Decoded) -> tuple[float, float, float]:
    """(confidence, coverage, fit) of a decode of ``pcm`` (the module docstring's "Confidence")."""
    n = decoded.n_frames
    loud = loud_frames(pcm, n)
    spanned = np.zeros(n, dtype=bool)
    total, frames = 0.0, 0
    for _, start, end, score in decoded.words:
        spanned[start : end + 1] = True
        total += score
        frames += end - start + 1
    coverage = float((spanned & loud).sum()) / max(int(loud.sum()), 1)
    fit = total / max(frames, 1)
    return confidence_from(coverage, fit), coverage, fit


class SphinxEngine:
    """pocketsphinx en-us from the wheel; thread-safe (decoders come from the pool)."""

    name = "pocketsphinx"
    language = "en"
    #: Calibrated operating point, see the module docstring.
    min_confidence = 0.5
    #: For answers read back to the caller (a gather with ``confirm``), see "Read-back" in the module docstring.
    confirm_confidence = 0.2
    #: Read the dictionary for the near decoys when the engine is made, if its decision uses them (about a second
    #: of CPU and 46 MB; otherwise on the first answer that needs them). Only the decoding worker processes do
    #: (sphinx_procs, at their start, off the node's way): an engine made in the node's own process would hold up
    #: every node's start by that second (the test suite's gateway processes: about two minutes of it in all).
    preload_decoys = False

    def __init__(
        self,
        pool_size: int,
        *,
        model_dir: Path | None = None,
        dictionary: Path | None = None,
        max_audio_ms: int = 30_000,
        decision: str = DEFAULT_DECISION,
        narrow_topn: int | None = None,
        narrow_mllr: Path | bool | None = None,
    ) -> None:
        """``narrow_topn``: pocketsphinx's ``-topn`` for telephone-band phrase searches (None: NARROW_TOPN for
        ``fitted``, pocketsphinx's default for the other decisions; see "The telephone band" in
        :mod:`media.asr.sphinx_decision`); such searches get decoders of their own when it is not the default.
        ``narrow_mllr``: an MLLR transform of the model's means (pocketsphinx's ``-mllr``) for those searches: a file,
        True (TELEPHONE_MLLR), False (none) or None (TELEPHONE_MLLR for ``fitted``, none for the other decisions);
        ``fitted`` judges them with FITTED_NARROW_ADAPTED when they use one (see "Telephone-band adaptation" in
        :mod:`media.asr.sphinx_decision`)."""
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, got {decision!r}")
        self.decision = decision
        self._garbage: dict[str, str] = {}  # grammar JSGF text -> its garbage JSGF text
        self._garbage_lock = threading.Lock()
        self.model_path = Path(model_dir or pocketsphinx.get_model_path("en-us/en-us")).resolve()
        self.dictionary = Path(dictionary or pocketsphinx.get_model_path("en-us/cmudict-en-us.dict")).resolve()
        if not (self.model_path / "mdef").is_file() or not self.dictionary.is_file():
            raise AsrError(
                f"no pocketsphinx acoustic model at {self.model_path} or dictionary at {self.dictionary}",
                code="asr_model_not_found",
            )
        self.max_audio_ms = max_audio_ms
        self.pool = DecoderPool(pool_size, self.model_path, self.dictionary)
        self._dropped_told: set[frozenset[str]] = set()  # unknown words said once each (usable_grammar)
        if narrow_topn is None:
            narrow_topn = NARROW_TOPN if decision == FITTED else DEFAULT_TOPN
        if narrow_mllr is None:
            narrow_mllr = decision == FITTED
        mllr = TELEPHONE_MLLR if narrow_mllr is True else narrow_mllr or None
        if mllr is not None and not mllr.is_file():
            raise AsrError(f"no MLLR transform at {mllr}", code="asr_model_not_found")
        #: How ``fitted`` judges a telephone-band menu answer: its searches' gate, with or without the transform.
        self.narrow_gate = FITTED_NARROW_ADAPTED if mllr is not None else FITTED_NARROW
        self.narrow_pool = (
            self.pool
            if narrow_topn == DEFAULT_TOPN and mllr is None
            else DecoderPool(pool_size, self.model_path, self.dictionary, topn=narrow_topn, mllr=mllr)
        )
        fitted_decoys = decision == FITTED and (FITTED_WIDE.decoy_band > 0 or self.narrow_gate.decoy_band > 0)
        self._decoys = Decoys(
            self.dictionary, DECOY_RULE, load=self.preload_decoys and (decision == DECOYS or fitted_decoys)
        )
        # Free decoding (live transcripts) with the wheel's en-us LM: its own decoders (about 92 MB each),
        # made only when a transcript first needs one.
        lm = Path(pocketsphinx.get_model_path("en-us/en-us.lm.bin"))
        self.free_pool = DecoderPool(pool_size, self.model_path, self.dictionary, lm) if lm.is_file() else None

    def unknown_words(self, words: Iterable[str]) -> list[str]:
        out: dict[str, None] = {}
        with self.pool.borrow() as item:
            for phrase in words:
                for word in normalize(phrase).split():
                    if word not in out and item.decoder.lookup_word(word) is None:
                        out[word] = None
        return list(out)

    def recognizer(self, grammar: Grammar | None = None) -> SphinxRecognizer | SphinxFreeRecognizer:
        if grammar is None:
            if self.free_pool is None:
                raise AsrError(
                    "the pocketsphinx wheel has no en-us.lm.bin: free decoding is not available", code="asr_bad_grammar"
                )
            return SphinxFreeRecognizer(self)
        return SphinxRecognizer(self, grammar)

    def decode_free(self, pcm: bytes) -> Result:
        """Free dictation of one utterance with the bundled language model (transcripts only, never routing).
        The confidence is the share of the utterance's loud frames the words cover.

        The same comfort noise as the grammar search (its floor 30 dB under the speech) turns dictation of
        espeak-ng sentences from noise ("so so what about so") into the words said ("i would like to talk to
        someone about my account", "my internet is not working"; "i want to pay my bill" still comes out as
        "i want to upgrade my real"): the model was trained on audio that is never digitally silent."""
        assert self.free_pool is not None
        audio = with_noise_floor(pcm, FLOOR_BELOW_SPEECH_DB, FLOOR_SEED)
        with self.free_pool.borrow() as item:
            d = item.decoder
            d.reinit_feat()
            d.set_cmn(item.initial_cmn)
            d.start_utt()
            d.process_raw(audio, full_utt=True)
            d.end_utt()
            hyp = d.hyp()
            segments = list(d.seg() or []) if hyp is not None else []
            n_frames = d.n_frames()
        words = [
            (s.word.split("(")[0], s.start_frame, s.end_frame)
            for s in segments
            if not s.word.startswith(FILLER_PREFIXES)
        ]
        if not words:
            return Result.nothing()
        loud = loud_frames(audio, n_frames)
        spanned = np.zeros(n_frames, dtype=bool)
        for _, start, end in words:
            spanned[start : end + 1] = True
        coverage = _clip01(float((spanned & loud).sum()) / max(int(loud.sum()), 1))
        text = " ".join(w for w, _, _ in words)
        return Result(text, coverage, tuple(Word(w, coverage) for w, _, _ in words), text)

    def describe(self) -> str:
        free = "; free decoding for transcripts with en-us.lm.bin" if self.free_pool is not None else ""
        mllr = self.narrow_pool.mllr
        narrow = f"; telephone band: MLLR transform {mllr.name}" if mllr is not None else ""
        return (
            f"pocketsphinx en model {self.model_path} dictionary {self.dictionary.name} "
            f"(JSGF / FSG grammars, up to {self.pool.size} decoders of about 27 MB{free}{narrow})"
        )

    def usable_grammar(self, grammar: Grammar) -> tuple[Grammar, str]:
        """``grammar`` without phrases holding unknown words, and its JSGF (phrases) or FSG (digits) text."""
        unknown = self.unknown_words(grammar.words(self.language))
        usable = grammar.without(unknown)
        said = frozenset(unknown)
        if said and said not in self._dropped_told:
            # once per set of words: the flow loader said it already (a label such as "After 5 PM" whose choice has
            # words of its own), and every call of that menu repeated it (an exploratory test)
            self._dropped_told.add(said)
            log.warning(
                "pocketsphinx: dropping grammar phrases with words missing from the dictionary: %s (said once)",
                ", ".join(unknown),
            )
        if usable is None:
            raise AsrError(
                f"no grammar phrase is left once the unknown words {unknown} are removed", code="asr_unknown_words"
            )
        return usable, (fsg if usable.digits else jsgf)(usable, self.language)

    def _run(self, pcm: bytes, grammar_text: str, wide: bool = True) -> Decoded:
        """One grammar search over ``pcm`` on a pooled decoder (:func:`~media.asr.sphinx_search.search`); ``wide``
        False: a telephone-band phrase search (on ``narrow_pool``)."""
        return search(self.pool if wide else self.narrow_pool, pcm, grammar_text)

    def _garbage_text(self, grammar: Grammar, grammar_text: str) -> str:
        """The garbage JSGF for ``grammar`` (cached): common words that are not grammar words nor sound like one."""
        with self._garbage_lock:
            found = self._garbage.get(grammar_text)
        if found is not None:
            return found
        from media.asr.garbage_words import WORDS

        mine = set(grammar.words(self.language))
        with self.pool.borrow() as item:
            sounds = [tuple(p.split()) for p in (item.decoder.lookup_word(w) for w in mine) if p]
            chosen: list[str] = []
            for word in WORDS:
                if word in mine:
                    continue
                pron = item.decoder.lookup_word(word)
                if pron is None or any(phone_distance(tuple(pron.split()), s) <= 1 for s in sounds):
                    continue
                chosen.append(word)
                if len(chosen) >= GARBAGE_WORDS:
                    break
        text = garbage_jsgf(grammar, chosen)
        with self._garbage_lock:
            self._garbage[grammar_text] = text
            if len(self._garbage) > MAX_SEARCHES_PER_DECODER:
                self._garbage.pop(next(iter(self._garbage)))
        return text

    def _against_garbage(
        self, audio: bytes, grammar: Grammar, grammar_text: str, texts: list[str], confidence: float, wide: bool
    ) -> tuple[float, str]:
        """(confidence, what the check saw): 0 when a common English word beats the menu answer ``texts``."""
        rival = self._run(audio, self._garbage_text(grammar, grammar_text), wide)
        if rival.texts != texts:
            return 0.0, "garbage " + (" ".join(rival.texts) or "(nothing)")
        return confidence, "beats garbage"

    def _confidence(self, pcm: bytes, decoded: Decoded) -> tuple[float, float, float]:
        """(confidence, coverage, fit) of a decode of ``pcm`` (:func:`measure`)."""
        return measure(pcm, decoded)

    def end_view(self, pcm: bytes, grammar_text: str, wide: bool) -> tuple[list[str], float]:
        """The words and the (first-view) confidence of the window without its last END_CUT_MS: a third view."""
        end = max(len(pcm) - END_CUT_MS * 32, len(pcm) // 2)
        high = WIDE_HIGH_BAND_BELOW_SPEECH_DB if wide else None
        cut = with_noise_floor(pcm[:end], FLOOR_BELOW_SPEECH_DB, FLOOR_SEED, high)
        third = self._run(cut, grammar_text, wide)
        return third.texts, measure(cut, third)[0]

    def decoy_winner(self, audio: bytes, grammar: Grammar, wide: bool) -> list[str]:
        """What wins when the menu's phrases compete with their near decoys over ``audio`` (comfort noise in)."""
        return self._run(audio, self._decoys.jsgf(grammar.phrases), wide).texts

    def _gated(
        self,
        pcm: bytes,
        audio: bytes,
        grammar: Grammar,
        grammar_text: str,
        texts: list[str],
        first: float,
        gate: Gate,
        *,
        clean: bool,
        wide: bool,
    ) -> tuple[float, str]:
        """(confidence, what the checks saw) of an agreed menu answer under ``gate`` (``fitted``): ``first`` is the
        first view's confidence without the clean bonus, ``audio`` the first view's audio (comfort noise in),
        ``wide`` whether it is wideband speech, ``clean`` whether the line is quiet (the bonus)."""
        confidence, check = first, "agrees"
        if gate.end_view:
            third, shorter = self.end_view(pcm, grammar_text, wide)
            check += f", end view {' '.join(third) or '(nothing)'} {shorter:.2f}"
            if third != texts:
                return 0.0, check
            confidence = min(confidence, shorter)
        if clean:
            confidence = min(1.0, confidence + gate.bonus)
        if confidence < gate.decoy_band:
            confidence, seen = self._decoys.check(self.decoy_winner(audio, grammar, wide), texts, confidence)
            check += ", " + seen
        return gate.reported(confidence), check + f", {confidence:.2f} against {gate.threshold:.2f}"

    def decode(self, pcm: bytes, grammar: Grammar, grammar_text: str) -> Result:
        """One utterance, start to end: two views that must agree (see the module docstring)."""
        wide = is_wideband(pcm)
        high, check_high = (
            (WIDE_HIGH_BAND_BELOW_SPEECH_DB, WIDE_CHECK_HIGH_BAND_BELOW_SPEECH_DB) if wide else (None, None)
        )
        audio = with_noise_floor(pcm, FLOOR_BELOW_SPEECH_DB, FLOOR_SEED, high)
        first = self._run(audio, grammar_text, wide or grammar.digits)  # digit strings: the default -topn
        if not first.words:
            return Result.nothing()
        texts = first.texts
        heard = " ".join(texts)
        match = grammar.match(texts, self.language)
        if match is None:
            return Result.nothing(heard, tuple(Word(t, 0.0) for t in texts))
        confidence, coverage, fit = self._confidence(audio, first)
        snr = snr_db(pcm)
        clean = snr >= CLEAN_SNR_DB
        bonus = CLEAN_BONUS if confidence > 0.0 and clean else 0.0
        confidence = min(1.0, confidence + bonus)
        check = "-"
        menu_answer = bool(grammar.phrases) and match.digits is None
        garbage_first = menu_answer and (grammar.strict or self.decision == GARBAGE)
        if confidence > 0.0 and garbage_first:
            confidence, check = self._against_garbage(audio, grammar, grammar_text, texts, confidence, wide)
        elif confidence > 0.0:
            again = with_noise_floor(pcm, CHECK_FLOOR_BELOW_SPEECH_DB, CHECK_FLOOR_SEED, check_high)
            second = self._run(again, grammar_text, wide or grammar.digits)
            if second.texts != texts:
                check = " ".join(second.texts) or "(nothing)"
                confidence = 0.0
            else:
                check = "agrees"
                if menu_answer and self.decision == BANDED and confidence < GARBAGE_BAND:
                    confidence, check = self._against_garbage(audio, grammar, grammar_text, texts, confidence, wide)
                elif menu_answer and self.decision == END_VIEW:  # a third view: the window's end END_CUT_MS earlier
                    third, shorter = self.end_view(pcm, grammar_text, wide)
                    confidence = min(confidence, min(1.0, shorter + bonus)) if third == texts else 0.0
                    check = f"agrees, end view {' '.join(third) or '(nothing)'}: {confidence:.2f}"
                elif menu_answer and self.decision == FITTED:
                    gate = FITTED_WIDE if wide else self.narrow_gate
                    confidence, check = self._gated(
                        pcm, audio, grammar, grammar_text, texts, confidence - bonus, gate, clean=clean, wide=wide
                    )
                elif menu_answer and self.decision == DECOYS and confidence < DECOY_BAND:
                    confidence, check = self._decoys.check(self.decoy_winner(audio, grammar, wide), texts, confidence)
                elif self.decision == RUNNER_UP and fit < SURE_FIT and not grammar.digits and len(grammar.phrases) > 1:
                    runner = self._run(audio, runner_up_text(grammar, match.text), wide)
                    margin = runner_up_margin(first.score, runner.score, first.n_frames)
                    check = f"agrees, runner-up {' '.join(runner.texts) or '(nothing)'} margin {margin:.1f}"
                    if margin < MIN_MARGIN:
                        confidence = 0.0
        if match.digits and (snr < NOISY_SNR_DB or (not wide and any(d in NARROW_UNSURE_DIGITS for d in match.digits))):
            confidence = min(confidence, NARROW_UNSURE_CAP)
        log.debug(
            "pocketsphinx %r %s snr %.1f dB coverage %.2f fit %.1f second view %s confidence %.2f",
            heard,
            "wideband" if wide else "narrowband",
            snr,
            coverage,
            fit,
            check,
            confidence,
        )
        return Result(match.text, confidence, tuple(Word(t, confidence) for t in texts), heard, match.digits)


class _Utterance:
    """Buffers one utterance (up to ``max_audio_ms``) for a decode at its end."""

    def __init__(self, engine: SphinxEngine) -> None:
        self._engine = engine
        self._audio = bytearray()
        self._max_bytes = engine.max_audio_ms * SAMPLE_RATE // 1000 * 2
        self.truncated = False

    def accept(self, pcm16k: bytes) -> Partial | None:
        room = self._max_bytes - len(self._audio)
        if len(pcm16k) > room:
            self.truncated = True
        self._audio += pcm16k[: max(room, 0)]
        return None

    def _take(self) -> bytes | None:
        """The utterance, or None when it is under 50 ms (nothing to decode); the buffer starts anew."""
        audio, self._audio = bytes(self._audio), bytearray()
        self.truncated = False
        return audio if len(audio) >= 2 * FRAME_SAMPLES * 5 else None

    def close(self) -> None:
        self._audio = bytearray()


class SphinxRecognizer(_Utterance):
    """A grammar search over the utterance in :meth:`final`. See the module docstring for why."""

    def __init__(self, engine: SphinxEngine, grammar: Grammar) -> None:
        super().__init__(engine)
        self._requested = grammar
        self._grammar, self._text = engine.usable_grammar(grammar)

    def final(self) -> Result:
        audio = self._take()
        return Result.nothing() if audio is None else self._engine.decode(audio, self._grammar, self._text)

    def reset(self, grammar: Grammar | None = None) -> None:
        self._audio = bytearray()
        self.truncated = False
        if grammar is not None and grammar != self._requested:
            self._requested = grammar
            self._grammar, self._text = self._engine.usable_grammar(grammar)


class SphinxFreeRecognizer(_Utterance):
    """Free dictation of the utterance in :meth:`final` (live transcripts)."""

    def final(self) -> Result:
        audio = self._take()
        return Result.nothing() if audio is None else self._engine.decode_free(audio)

    def reset(self, grammar: Grammar | None = None) -> None:
        self._audio = bytearray()
        self.truncated = False
