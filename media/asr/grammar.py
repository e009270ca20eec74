"""What a listening window may hear: phrases, and optionally a spoken digit string.

A :class:`Grammar` is built by the caller (the gateway, from the gather/menu
node's choices, their words and the node's speech hints) and handed to an
engine's recognizer. The engine turns it into its own form (a Vosk phrase
list, a pocketsphinx JSGF grammar). After decoding, :meth:`Grammar.match`
decides whether what the engine heard is *exactly* one allowed phrase or a
digit string of an allowed length; anything else is out of grammar and must
count as a no-match, never as a route.

Phrases are normalised (:func:`normalize`): lower case, punctuation except
apostrophes dropped, whitespace collapsed. Digit words are per language
(:data:`DIGIT_WORDS`: English "zero" and "oh", Korean 영 and 공 all say 0),
and so are the repeat words that say one digit several times
(:data:`DIGIT_REPEATS`: "double five" is 55, "triple seven" 777).

A spoken number's length is counted in digits, not words: with
``min_digits == max_digits == 4`` "double five one two" (four words) and
"five five one two" are both 5512. :meth:`Grammar.digit_graph` is the
digit strings as a finite-state graph that counts that way, for engines
that take one (pocketsphinx); it lets the decoder end on *fewer* digits
than ``min_digits`` (a competing path that :meth:`Grammar.match` rejects),
so three spoken digits in a 4-digit window are a no-match instead of being
forced onto four, and never lets it go past ``max_digits``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from media.asr.errors import AsrError

#: Spoken digit words per language: the words grammars are built from.
DIGIT_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "zero": "0",
        "oh": "0",
        "one": "1",
        "two": "2",
        "three": "3",
        "four": "4",
        "five": "5",
        "six": "6",
        "seven": "7",
        "eight": "8",
        "nine": "9",
    },
    # Sino-Korean numbers, what Korean speakers use for phone and account numbers.
    "ko": {
        "영": "0",
        "공": "0",
        "일": "1",
        "이": "2",
        "삼": "3",
        "사": "4",
        "오": "5",
        "육": "6",
        "칠": "7",
        "팔": "8",
        "구": "9",
    },
}
#: Digit words a number of a range of lengths may not end on (see :meth:`Grammar.digit_graph`).
DIGIT_NOT_LAST: dict[str, set[str]] = {"en": {"oh"}}
#: Words that repeat the digit word after them: "double five" is 55. Korean callers say every digit.
DIGIT_REPEATS: dict[str, dict[str, int]] = {"en": {"double": 2, "triple": 3}}

MAX_DIGITS = 32
_PUNCT_RE = re.compile(r"[^\w' ]+")
_SPACE_RE = re.compile(r"\s+")


def base_language(language: str) -> str:
    """``en-US`` / ``en_us`` / ``EN`` -> ``en``."""
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]


def normalize(text: str) -> str:
    """Lower case, punctuation (but not apostrophes) to spaces, whitespace collapsed."""
    return _SPACE_RE.sub(" ", _PUNCT_RE.sub(" ", text.lower())).strip()


def digit_words(language: str) -> dict[str, str]:
    """The digit words grammars use for ``language`` (empty when we have no table for it)."""
    return DIGIT_WORDS.get(base_language(language), {})


def digit_repeats(language: str) -> dict[str, int]:
    """The repeat words ("double": 2) of ``language`` (empty when it has none)."""
    return DIGIT_REPEATS.get(base_language(language), {})


def digits_of(words: Sequence[str], language: str) -> str | None:
    """``["one", "two"]`` -> ``"12"``, ``["double", "five"]`` -> ``"55"``; None when the words are not a number.

    A repeat word must be followed by a digit word ("double" alone, "double double five": None).
    """
    table, repeats = digit_words(language), digit_repeats(language)
    out: list[str] = []
    times = 1
    for word in words:
        if word in repeats and times == 1:
            times = repeats[word]
        elif word in table:
            out.append(table[word] * times)
            times = 1
        else:
            return None
    return "".join(out) if out and times == 1 else None


@dataclass(frozen=True)
class Match:
    """What an utterance matched: the phrase as written in the grammar, or a digit string."""

    text: str
    digits: str | None = None


@dataclass(frozen=True)
class Grammar:
    """The phrases allowed in one listening window, plus optionally any digit string.

    Build it with :meth:`of`, which normalises and de-duplicates. ``digits``
    allows any sequence of ``min_digits`` to ``max_digits`` digit words of
    the engine's language (a spoken account number); a phrase that happens
    to be one digit word (a menu key "one") is matched as that phrase.
    ``strict`` asks the engine for its stricter menu decision where it has one
    (pocketsphinx: the garbage competitor, fewer words outside the menu routed,
    more menu words rejected and slower; a flow's ``speech_strictness: strict``).
    """

    phrases: tuple[str, ...] = ()
    digits: bool = False
    min_digits: int = 1
    max_digits: int = 16
    strict: bool = False

    def __post_init__(self) -> None:
        if not self.phrases and not self.digits:
            raise AsrError("a speech grammar needs at least one phrase or digits", code="asr_bad_grammar")
        if not 1 <= self.min_digits <= self.max_digits <= MAX_DIGITS:
            raise AsrError(
                f"digit lengths must satisfy 1 <= min ({self.min_digits}) <= max ({self.max_digits}) <= {MAX_DIGITS}",
                code="asr_bad_grammar",
            )
        for phrase in self.phrases:
            if not phrase or normalize(phrase) != phrase:
                raise AsrError(
                    f"grammar phrase {phrase!r} is not normalised: build grammars with Grammar.of()",
                    code="asr_bad_grammar",
                )

    @classmethod
    def of(
        cls,
        phrases: Iterable[str] = (),
        *,
        digits: bool = False,
        min_digits: int = 1,
        max_digits: int = 16,
        strict: bool = False,
    ) -> Grammar:
        """Normalise, drop empties and duplicates (first spelling wins, order kept)."""
        seen: dict[str, None] = {}
        for phrase in phrases:
            text = normalize(phrase)
            if text:
                seen.setdefault(text, None)
        return cls(tuple(seen), digits, min_digits, max_digits, strict)

    def words(self, language: str) -> list[str]:
        """Every distinct word the engine must know: phrase words, then digit words if ``digits``."""
        out: dict[str, None] = {}
        for phrase in self.phrases:
            for word in phrase.split():
                out.setdefault(word, None)
        if self.digits:
            for word in [*digit_words(language), *digit_repeats(language)]:
                out.setdefault(word, None)
        return list(out)

    def without(self, unknown: Iterable[str]) -> Grammar | None:
        """This grammar minus every phrase holding an ``unknown`` word (None if nothing is left).

        A phrase with a word the model cannot say can never be recognised as
        written; an engine would silently shorten it to its known words and
        match something else, so it is dropped instead.
        """
        bad = set(unknown)
        if not bad:
            return self
        kept = tuple(p for p in self.phrases if not bad & set(p.split()))
        if not kept and not self.digits:
            return None
        return Grammar(kept, self.digits, self.min_digits, self.max_digits, self.strict)

    def match(self, words: Sequence[str], language: str) -> Match | None:
        """The phrase or digit string ``words`` is *exactly*, else None (out of grammar)."""
        text = " ".join(words)
        if not text:
            return None
        if text in self.phrases:
            return Match(text, digits_of(words, language))
        if self.digits:
            digits = digits_of(words, language)
            if digits is not None and self.min_digits <= len(digits) <= self.max_digits:
                return Match(text, digits)
        return None

    def digit_graph(self, language: str) -> DigitGraph:
        """This grammar's phrases and digit strings as a graph (see :class:`DigitGraph`); needs ``digits``."""
        if not self.digits:
            raise AsrError("the grammar has no digit strings", code="asr_bad_grammar")
        words = list(digit_words(language))
        if not words:
            raise AsrError(f"no digit words for language {language!r}", code="asr_bad_grammar")
        top = self.max_digits
        final = top + 1
        # In a range (min < max) a word of DIGIT_NOT_LAST ("oh") leads to a copy of the next state that cannot end
        # the number: noise after the last digit was decoded as a trailing "oh" (another digit, where the range
        # allows it). An exact length cannot grow, so there "oh" may come last.
        not_last = DIGIT_NOT_LAST.get(base_language(language), set()) if self.min_digits < self.max_digits else set()
        arcs, state = _digit_arcs(words, digit_repeats(language), not_last, top, final + 1)
        # fewer digits than asked may end the utterance too (Grammar.match rejects them): a competitor
        arcs += [(i, final, None) for i in range(1, top + 1)]
        for phrase in self.phrases:  # each phrase its own path from start to final
            chain = phrase.split()
            stops = [0, *range(state, state + len(chain) - 1), final]
            state += len(chain) - 1
            arcs += [(stops[k], stops[k + 1], w) for k, w in enumerate(chain)]
        return DigitGraph(state, 0, final, tuple(arcs))


def _digit_arcs(
    words: list[str], repeats: dict[str, int], not_last: set[str], top: int, state: int
) -> tuple[list[tuple[int, int, str | None]], int]:
    """The arcs between the counting states ``0..top`` of :meth:`Grammar.digit_graph`, extra states from ``state``.

    State i: i digits said so far; a digit word moves one on, "double" + a digit two, "triple" + a digit three.
    A word of ``not_last`` leads to a copy of the next state without the way out. Returns (arcs, next free state).
    """
    inter: dict[tuple[int, str], int] = {}  # after "double" at state i
    for i in range(top):
        for repeat, times in repeats.items():
            if i + times <= top:
                inter[i, repeat] = state
                state += 1
    shadow: dict[int, int] = {}
    for j in range(1, top) if not_last else ():
        shadow[j] = state
        state += 1
    arcs: list[tuple[int, int, str | None]] = []
    for i in range(top):
        for source in (i, shadow[i]) if i in shadow else (i,):
            for w in words:
                if w not in not_last:
                    arcs.append((source, i + 1, w))
                elif i + 1 in shadow:
                    arcs.append((source, shadow[i + 1], w))
            arcs += [(source, inter[i, r], r) for r in repeats if (i, r) in inter]
    for (i, repeat), middle in inter.items():
        arcs += [(middle, i + repeats[repeat], w) for w in words]
    return arcs, state


@dataclass(frozen=True)
class DigitGraph:
    """Spoken digit strings as a finite-state graph: ``arcs`` are (from, to, word), word None for an empty move.

    States ``0..max_digits`` count the digits said; ``final`` is reached from any of them but 0, and
    by each phrase's own path from ``start``.
    """

    n_states: int
    start: int
    final: int
    arcs: tuple[tuple[int, int, str | None], ...]

    def accepts(self, words: Sequence[str]) -> bool:
        """Whether some path from start to final says exactly ``words`` (for tests)."""
        here = self._closure({self.start})
        for word in words:
            here = self._closure({b for a, b, w in self.arcs if a in here and w == word})
        return self.final in here

    def _closure(self, states: set[int]) -> set[int]:
        out, todo = set(states), list(states)
        while todo:
            s = todo.pop()
            for a, b, w in self.arcs:
                if a == s and w is None and b not in out:
                    out.add(b)
                    todo.append(b)
        return out
