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
(:data:`DIGIT_WORDS`); the first entries of each table are the words put
into grammars, the aliases after them are only understood when an engine
outputs them.
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
#: Words understood as digits when an engine outputs them, but not put into grammars.
#: "oh" is left out of English grammars on purpose: on the test audio pocketsphinx inserted it
#: between other digits (and for "no") far more often than anyone says it.
DIGIT_ALIASES: dict[str, dict[str, str]] = {"en": {"oh": "0"}}

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


def digits_of(words: Sequence[str], language: str) -> str | None:
    """``["one", "two"]`` -> ``"12"``; None when any word is not a digit word of ``language``."""
    table = {**digit_words(language), **DIGIT_ALIASES.get(base_language(language), {})}
    out: list[str] = []
    for word in words:
        if word not in table:
            return None
        out.append(table[word])
    return "".join(out) if out else None


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
    """

    phrases: tuple[str, ...] = ()
    digits: bool = False
    min_digits: int = 1
    max_digits: int = 16

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
        cls, phrases: Iterable[str] = (), *, digits: bool = False, min_digits: int = 1, max_digits: int = 16
    ) -> Grammar:
        """Normalise, drop empties and duplicates (first spelling wins, order kept)."""
        seen: dict[str, None] = {}
        for phrase in phrases:
            text = normalize(phrase)
            if text:
                seen.setdefault(text, None)
        return cls(tuple(seen), digits, min_digits, max_digits)

    def words(self, language: str) -> list[str]:
        """Every distinct word the engine must know: phrase words, then digit words if ``digits``."""
        out: dict[str, None] = {}
        for phrase in self.phrases:
            for word in phrase.split():
                out.setdefault(word, None)
        if self.digits:
            for word in digit_words(language):
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
        return Grammar(kept, self.digits, self.min_digits, self.max_digits)

    def match(self, words: Sequence[str], language: str) -> Match | None:
        """The phrase or digit string ``words`` is *exactly*, else None (out of grammar)."""
        text = " ".join(words)
        if not text:
            return None
        if text in self.phrases:
            return Match(text, digits_of(words, language))
        if self.digits and self.min_digits <= len(words) <= self.max_digits:
            digits = digits_of(words, language)
            if digits is not None:
                return Match(text, digits)
        return None
