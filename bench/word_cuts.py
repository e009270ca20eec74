"""Single words cut out of whole prompt recordings by forced alignment (the human set's yes/no tasks).

The prompt voice (bench/human_set.py) has no recording of "yes", "correct" or "wrong" said alone, but says
them inside prompts: "If this is correct, press..." (``if-correct-press``), "Something is terribly wrong!",
"right brace" (``letters/ascii125``), and the words a yes/no question must refuse: "Login incorrect." (``vm-incorrect``),
"All circuits are busy now." :func:`cut_word` finds a word in a prompt and cuts it out:

1. pocketsphinx's alignment search (the wheel's en-us model, :meth:`Decoder.set_align_text`: the known transcript,
   with optional silences between words) gives each word's first and last 10 ms frame;
2. each edge moves outward to the quietest 2.5 ms block within EDGE_MS of it (between words that is the pause, or
   the closure before a stop; never more than EDGE_MS into the next word), and the cut fades in and out over
   FADE_MS so no click starts or ends it, or over LOUD_FADE_MS where no pause separates the words;
3. it is resampled to 48 kHz like every item of the set.

Every prompt is aligned in each band separately (the 16 kHz G.722 and the 8 kHz WAV recording). ``python -m
bench.word_cuts`` is the ear-proxy check of every cut (the one a person would do by listening): its length, how
far under its peak its first and last 10 ms are (a cut in the middle of a vowel starts loud), the aligned word's
share of the cut, and what an open decode (:func:`open_decode`: the cut alone, one word among the 3000 commonest
English words) hears. Nothing is written to disk: the cuts are made from the installed packages each run.

What the check shows (29 takes, each in both bands): the open decode hears the word itself (or "know" for "no") in
24 of 58 cuts: "incorrect" 8 of 8, "wrong" 4/4, "yes" 1/2 ("youth" in the 8 kHz one), "current" 2/2, "not" 4/6, "connect" 2/4, "now" 2/8, "right" 1/4
("rights", "riot"), "correct" 0/2 ("direct"), "no" 0/12 ("nope", "note", "health"). The open decode is a weak ear:
"new" said alone (``vm-INBOX``) comes out as "male", "nine" as "dying". But the "no" cuts are what it says: "no"
in running speech ("no more", "no matches", "no call") is 250-350 ms with no pause after it (its edges 3-10 dB
under its peak before the fade), against 540 ms for the "no" said alone (``vm-no``, heard as "know"). In the
yes/no grammar (``./bin/bench asr --set human``) all of them answer no on clean audio.
"""

from __future__ import annotations

import argparse
import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pocketsphinx import Decoder

from media.asr.garbage_words import WORDS
from media.audio import Audio, resample
from tests.support.prompt_voice import BANDS, RATE, WIDE, Samples, recording_audio

#: Alignment frames are 10 ms at 16 kHz.
FRAME_MS = 10
#: How far an edge may move outward to find the quietest point.
EDGE_MS = 30
#: Fade in and out at the cut; LOUD_FADE_MS where the edge is still within LOUD_DB of the word's peak (no pause
#: between the words: "no more", "terribly wrong"), a decay like a word's said alone instead of a sudden stop.
FADE_MS = 5
LOUD_FADE_MS = 40
LOUD_DB = 30.0


@dataclass(frozen=True)
class Take:
    """One word to cut out of one prompt: ``name`` (the recording), ``text`` (what it says, from the package's
    core-sounds-en.txt), ``word`` (the word to cut), ``nth`` (which of its occurrences, from 0)."""

    name: str
    text: str
    word: str
    nth: int = 0


@dataclass(frozen=True)
class Cut:
    """A word cut out of a prompt: the 48 kHz samples and where they came from (ms in the recording)."""

    take: Take
    band: str
    samples: Samples
    start_ms: float
    end_ms: float
    word_start_ms: float  # the aligned word (before the edges moved)
    word_end_ms: float
    edges_db: tuple[float, float]  # how far under the cut's loudest 10 ms its first and last 10 ms are (no fade)

    @property
    def duration_ms(self) -> float:
        return self.end_ms - self.start_ms


class CutError(Exception):
    """The alignment did not find the word (a wrong transcript, or a word the dictionary lacks)."""


#: Pieces of words the alignment may need (word -> cmudict phones): "yes" is cut out of "yesterday" as "yes terday",
#: where the closure of the t parts them.
PIECES = {"terday": "T ER D EY"}


@functools.cache
def _aligner() -> Decoder:
    d = Decoder(samprate=16000, lm=None, loglevel="ERROR")
    for word, phones in PIECES.items():
        d.add_word(word, phones, True)
    return d


@functools.cache
def _source(name: str, band: str) -> Audio:
    return recording_audio(name, band)


def align(audio: Audio, text: str) -> list[tuple[str, int, int]]:
    """The words of ``text`` in ``audio`` (any rate): (word, first frame, last frame), 10 ms frames, silences left
    out; alternative pronunciations lose their ``(2)``."""
    pcm = audio if audio.sample_rate == 16000 else resample(audio, 16000)
    d = _aligner()
    try:
        d.set_align_text(text.lower())
    except RuntimeError as exc:  # a word the dictionary lacks (PIECES has the parts of words)
        raise CutError(f"cannot align {text!r}: {exc}") from exc
    d.start_utt()
    d.process_raw(pcm.samples.tobytes(), full_utt=True)
    d.end_utt()
    if d.hyp() is None:
        raise CutError(f"no alignment of {text!r}")
    out = []
    for s in d.seg():
        word = s.word.split("(")[0]
        if word not in ("<s>", "</s>", "<sil>", "[NOISE]"):
            out.append((word, s.start_frame, s.end_frame))
    return out


def _quietest(x: Samples, rate: int, lo: int, hi: int) -> int:
    """The sample at the middle of the quietest 2.5 ms block of ``x[lo:hi]``."""
    n = max(1, rate // 400)
    lo, hi = max(0, lo), min(len(x), hi)
    if hi - lo < n:
        return max(0, min(len(x), lo))
    blocks = x[lo : lo + (hi - lo) // n * n].astype(np.float64).reshape(-1, n)
    return lo + int(np.argmin((blocks * blocks).sum(axis=1))) * n + n // 2


def _edge_db(x: npt.NDArray[np.float64], rate: int, side: int) -> float:
    """How many dB the first (``side`` 0) or the last 10 ms of ``x`` are under its loudest 10 ms."""
    n = rate // 100
    blocks = x[: len(x) // n * n].reshape(-1, n)
    level = 10 * np.log10(np.mean(blocks * blocks, axis=1) + 1e-9)
    return float(level.max() - level[0 if side == 0 else -1])


def cut_word(take: Take, band: str = WIDE) -> Cut:
    """``take.word`` cut out of ``take.name``'s recording in ``band`` (see the module docstring)."""
    audio = _source(take.name, band)
    found = [(s, e) for w, s, e in align(audio, take.text) if w == take.word.lower()]
    if len(found) <= take.nth:
        raise CutError(f"{take.word!r} (#{take.nth}) not aligned in {take.name} ({band}): {found}")
    first, last = found[take.nth]
    rate, x = audio.sample_rate, audio.samples
    per_ms = rate / 1000
    s, e = int(first * FRAME_MS * per_ms), int((last + 1) * FRAME_MS * per_ms)
    edge = int(EDGE_MS * per_ms)
    a, b = _quietest(x, rate, s - edge, s), _quietest(x, rate, e, e + edge)
    piece = x[a:b].astype(np.float64)
    edges = (_edge_db(piece, rate, 0), _edge_db(piece, rate, 1))
    for side in (0, 1):
        fade = min(len(piece) // 4, int((LOUD_FADE_MS if edges[side] < LOUD_DB else FADE_MS) * per_ms))
        ramp = np.linspace(0.0, 1.0, fade) ** 2
        if side == 0:
            piece[:fade] *= ramp
        else:
            piece[len(piece) - fade :] *= ramp[::-1]
    samples = resample(Audio(np.round(piece).astype(np.int16), rate), RATE).samples
    return Cut(take, band, samples, a / per_ms, b / per_ms, first * FRAME_MS, (last + 1) * FRAME_MS, edges)


#: The open decode's vocabulary: the commonest English words (media/asr/garbage_words.py).
OPEN_WORDS = 3000
#: Words the open decode may hear for a word because they sound the same (cmudict-en-us).
SOUNDS_LIKE = {"no": ("know",), "know": ("no",)}


@functools.cache
def _open_decoder(word: str) -> Decoder:
    words = dict.fromkeys((*WORDS[:OPEN_WORDS], *word.split()))
    d = Decoder(samprate=16000, lm=None, loglevel="ERROR")
    d.add_jsgf_string("open", f"#JSGF V1.0;\ngrammar open;\npublic <word> = {' | '.join(words)};\n")
    d.activate_search("open")
    return d


def open_decode(samples: Samples, word: str) -> str:
    """The one word pocketsphinx hears in ``samples`` (48 kHz, 300 ms of silence around) among the OPEN_WORDS
    commonest English words and ``word``: a free decode of a single word (the language model's free decode
    hears a word alone as a sentence: "incorrect" as "interact", "wrong" as "whelan")."""
    pcm = resample(Audio(samples, RATE), 16000).samples
    rng = np.random.default_rng(0)
    pad = [np.round(rng.normal(0.0, 3.0, 4800)).astype(np.int16) for _ in range(2)]  # -80 dBFS: no digital zeros
    d = _open_decoder(word)
    d.start_utt()
    d.process_raw(np.concatenate([pad[0], pcm, pad[1]]).tobytes(), full_utt=True)
    d.end_utt()
    hyp = d.hyp()
    return hyp.hypstr if hyp is not None else ""


def main() -> None:
    from bench.human_set import YESNO_CUTS, ensure_installed

    parser = argparse.ArgumentParser(description="The ear-proxy check of every cut word of the human set.")
    parser.parse_args()
    ensure_installed()
    head = f"{'word':10s} {'recording':26s} {'band':6s} {'cut ms':>13s} {'len':>5s} {'word%':>5s} {'edges dB':>11s}  open decode"
    print(head)
    print("-" * len(head))
    heard = total = 0
    for takes in YESNO_CUTS.values():
        for take in takes:
            for band in BANDS:
                cut = cut_word(take, band)
                first, last = cut.edges_db
                share = 100 * (cut.word_end_ms - cut.word_start_ms) / cut.duration_ms
                said = open_decode(cut.samples, take.word)
                total += 1
                heard += said in (take.word, *SOUNDS_LIKE.get(take.word, ()))
                print(
                    f"{take.word:10s} {take.name:26s} {band:6s} {cut.start_ms:6.0f}-{cut.end_ms:<6.0f} "
                    f"{cut.duration_ms:5.0f} {share:5.0f} {first:5.1f}/{last:<5.1f}  {said!r}"
                )
    print(f"the open decode hears the word (or one that sounds the same) in {heard} of {total} cuts")


if __name__ == "__main__":
    main()
