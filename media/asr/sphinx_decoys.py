"""Near decoys: dictionary words that sound almost like a menu's words, competing with them in one more search.

A JSGF search always ends on a menu phrase, so a single word outside the menu is forced onto the phrase it is
least unlike. The 3000 commonest English words as competitors (``garbage``) caught those words but took the menu
words too, and cost 10x the search. Near decoys compete only where the confusion happens: for every word of the
menu, the words of the pronunciation dictionary (pocketsphinx's cmudict-en-us) within a few phones of it
(:func:`distances`, ``min_distance``..``max_distance`` phone edits) and with as many vowels (syllables), never a menu word
nor one that sounds like one (distance 0). A menu answer that two views agreed on is decoded once more with the
menu's phrases and the decoys (:func:`decoy_jsgf`); if a decoy wins, the answer is a no-match.

Cost: the dictionary is read once per process (about a second, 46 MB: int8 arrays and a row index), a menu's decoys
are found once (0.15-0.5 s for a 4-7 word menu, cached) and each check is one more search (30-60 ms p50 here).
Measured figures and why this is not the default: :mod:`media.asr.sphinx_decision`.
"""

from __future__ import annotations

import functools
import threading
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

#: The vowels of the CMU phone set (the dictionary has no stress marks): one per syllable.
VOWELS = frozenset(["AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"])

Phones = tuple[str, ...]
MAX_GRAMMARS = 32  # decoy grammars kept (one per menu)
#: Plural and possessive endings: a menu word with one of them is the same answer ("mondays"), never a decoy.
INFLECTIONS = frozenset({("S",), ("Z",), ("IH", "Z"), ("AH", "Z")})


@dataclass(frozen=True)
class DecoyRule:
    """Which dictionary words are decoys of a menu word."""

    min_distance: int = 1
    max_distance: int = 2
    per_word: int = 30  # at most this many per menu word, the nearest first
    syllable_slack: int = 0  # how many more or fewer vowels than the menu word a decoy may have


@dataclass(frozen=True, eq=False)
class Lexicon:
    """A pronunciation dictionary as arrays, for distances to every entry at once (about 25 MB for cmudict-en-us)."""

    words: tuple[str, ...]  # one per pronunciation (a word's variants are on consecutive rows)
    codes: npt.NDArray[np.int8]  # phone ids, padded with -1
    lengths: npt.NDArray[np.int8]
    vowels: npt.NDArray[np.int8]
    first_row: dict[str, int]  # word -> its first row
    phones: tuple[str, ...]  # phone id -> phone

    @functools.cached_property
    def phone_ids(self) -> dict[str, int]:
        return {p: k for k, p in enumerate(self.phones)}

    def prons(self, word: str) -> tuple[Phones, ...]:
        """The pronunciations of ``word`` (none when the dictionary does not have it)."""
        row = self.first_row.get(word)
        out: list[Phones] = []
        while row is not None and row < len(self.words) and self.words[row] == word:
            out.append(tuple(self.phones[c] for c in self.codes[row, : self.lengths[row]]))
            row += 1
        return tuple(out)


@functools.cache
def lexicon(path: Path) -> Lexicon:
    """A CMU-format dictionary (``word(2)`` lines are variants) as a :class:`Lexicon` (cached per path)."""
    ids: dict[str, int] = {}
    words: list[str] = []
    rows: list[list[int]] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                words.append(parts[0].split("(", 1)[0])
                rows.append([ids.setdefault(x, len(ids)) for x in parts[1:]])
    order = sorted(range(len(words)), key=lambda k: (words[k], k))  # a word's variants on consecutive rows
    codes = np.full((len(rows), max(map(len, rows))), -1, np.int8)
    for k, row in enumerate(order):
        codes[k, : len(rows[row])] = rows[row]
    vowel_ids = [ids[v] for v in VOWELS if v in ids]
    lengths = (codes >= 0).sum(axis=1).astype(np.int8)
    first_row: dict[str, int] = {}
    for k, row in enumerate(order):
        first_row.setdefault(words[row], k)
    return Lexicon(
        tuple(words[row] for row in order),
        codes,
        lengths,
        np.isin(codes, vowel_ids).sum(axis=1).astype(np.int8),
        first_row,
        tuple(sorted(ids, key=ids.__getitem__)),
    )


def syllables(phones: Phones) -> int:
    return sum(p in VOWELS for p in phones)


def distances(lex: Lexicon, target: Phones, max_distance: int, syllable_slack: int) -> dict[int, int]:
    """Entry index -> phone edit distance to ``target``, for the entries within ``max_distance`` of it whose
    vowel count is within ``syllable_slack`` of the target's (a Levenshtein table over all of them at once)."""
    n = len(target)
    rows = np.flatnonzero(
        (np.abs(lex.lengths - n) <= max_distance) & (np.abs(lex.vowels - syllables(target)) <= syllable_slack)
    )
    if not len(rows) or n == 0:
        return {}
    want = np.array([lex.phone_ids.get(p, -2) for p in target], np.int8)
    cand = lex.codes[rows, : n + max_distance] if lex.codes.shape[1] >= n + max_distance else lex.codes[rows]
    lengths = lex.lengths[rows]
    prev = np.tile(np.arange(n + 1, dtype=np.int16), (len(rows), 1))
    result = np.where(lengths == 0, n, max_distance + 1).astype(np.int16)
    for i in range(1, cand.shape[1] + 1):
        cur = np.empty_like(prev)
        cur[:, 0] = i
        same = cand[:, i - 1 : i] == want[None, :]
        diag = prev[:, :-1] + (~same)
        up = prev[:, 1:] + 1
        best = np.minimum(diag, up)
        for j in range(1, n + 1):
            cur[:, j] = np.minimum(best[:, j - 1], cur[:, j - 1] + 1)
        result = np.where(lengths == i, cur[:, n], result)
        prev = cur
    near = result <= max_distance
    return dict(zip(rows[near].tolist(), result[near].tolist(), strict=True))


def _plain(word: str) -> bool:
    """A decoy must be an ordinary word: letters (and apostrophes) only, no abbreviations."""
    return word.replace("'", "").isalpha() and not word.startswith("'")


def _inflection(pron: Phones, of: Phones) -> bool:
    """``pron`` is ``of`` with a plural or possessive ending ("mondays", "family's"): the same answer, not a decoy."""
    return len(pron) > len(of) and pron[: len(of)] == of and pron[len(of) :] in INFLECTIONS


def stem(word: str) -> str:
    """A crude English stem ("activated", "activating" -> "activat"; "enable", "enabled" -> "enabl"): a decoy with
    the menu word's stem is another form of the same answer, not another word."""
    for suffix in ("'s", "s'", "ing", "ed", "es", "s", "e", "d"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def near_words(words: Sequence[str], lex: Lexicon, rule: DecoyRule) -> dict[str, list[str]]:
    """menu word -> its decoys (nearest first, then the commonest, then a stable hash order), per ``rule``; none is
    a menu word, sounds like one, or is one with a plural or possessive ending."""
    from media.asr.garbage_words import WORDS

    common = {w: k for k, w in enumerate(WORDS)}
    own = {p for w in words for p in lex.prons(w)}
    stems = {stem(w) for w in words}
    out: dict[str, list[str]] = {}
    for word in words:
        best: dict[str, int] = {}
        for target in lex.prons(word):
            for row, d in distances(lex, target, rule.max_distance, rule.syllable_slack).items():
                other = lex.words[row]
                if d < rule.min_distance or other in best and best[other] <= d:
                    continue
                best[other] = d
        chosen = [
            (d, common.get(o, len(common)), zlib.crc32(o.encode()), o)
            for o, d in best.items()
            if o not in words
            and _plain(o)
            and stem(o) not in stems
            and not any(o.startswith(w) or w.startswith(o) for w in words)
            and not any(p in own or any(_inflection(p, q) for q in own) for p in lex.prons(o))
        ]
        out[word] = [o for *_, o in sorted(chosen)[: rule.per_word]]
    return out


def decoy_phrases(phrases: Iterable[str], near: dict[str, list[str]]) -> list[str]:
    """Each phrase with one of its words swapped for one of that word's decoys (a one-word phrase: the decoys)."""
    out: dict[str, None] = {}
    phrases = list(phrases)
    taken = set(phrases)
    for phrase in phrases:
        words = phrase.split()
        for i, word in enumerate(words):
            for decoy in near.get(word, ()):
                swapped = " ".join([*words[:i], decoy, *words[i + 1 :]])
                if swapped not in taken:
                    out[swapped] = None
    return list(out)


def decoy_jsgf(phrases: Sequence[str], decoys: Sequence[str]) -> str:
    """The menu's phrases against the decoys: ``public <utterance> = <phrase> | <decoy>;``."""

    def alt(ps: Sequence[str]) -> str:
        return " | ".join(f"( {p} )" if " " in p else p for p in ps)

    return (
        "#JSGF V1.0;\ngrammar decoys;\npublic <utterance> = <phrase> | <decoy>;\n"
        f"<phrase> = {alt(phrases)};\n<decoy> = {alt(decoys)};\n"
    )


class Decoys:
    """The ``decoys`` decision's competing search per grammar (its JSGF text, made once and kept)."""

    def __init__(self, dictionary: Path, rule: DecoyRule, *, load: bool = False) -> None:
        """``load``: read the dictionary now (about a second), not on the first check."""
        self.dictionary = dictionary
        self.rule = rule
        self._texts: dict[tuple[str, ...], str] = {}
        self._lock = threading.Lock()
        if load:
            lexicon(dictionary)

    def jsgf(self, phrases: Sequence[str]) -> str:
        """The menu's phrases against their decoys (:func:`decoy_jsgf`)."""
        key = tuple(phrases)
        with self._lock:
            found = self._texts.get(key)
        if found is None:
            near = near_words(sorted({w for p in phrases for w in p.split()}), lexicon(self.dictionary), self.rule)
            found = decoy_jsgf(phrases, decoy_phrases(phrases, near))
            with self._lock:
                self._texts[key] = found
                if len(self._texts) > MAX_GRAMMARS:
                    self._texts.pop(next(iter(self._texts)))
        return found

    @staticmethod
    def check(rival: Sequence[str], texts: Sequence[str], confidence: float) -> tuple[float, str]:
        """(confidence, what the check saw): 0 when the decoy search heard something else than ``texts``."""
        if list(rival) == list(texts):
            return confidence, "beats decoys"
        return 0.0, "decoy " + (" ".join(rival) or "(nothing)")
