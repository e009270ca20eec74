"""Near decoys (media/asr/sphinx_decoys.py): which dictionary words compete with a menu's words.

Runs on the CMU dictionary in the pocketsphinx wheel (no decoding): the distances against a plain edit distance,
and the words that must never be decoys (the menu's own words, words that sound like them, their plural and
possessive forms and other forms of the same stem).
"""

from __future__ import annotations

import random
from pathlib import Path

import pocketsphinx
import pytest

from media.asr.sphinx_decision import DECOY_RULE
from media.asr.sphinx_decoys import (
    DecoyRule,
    Decoys,
    Lexicon,
    decoy_jsgf,
    decoy_phrases,
    distances,
    lexicon,
    near_words,
    stem,
    syllables,
)

DICTIONARY = Path(pocketsphinx.get_model_path("en-us/cmudict-en-us.dict"))
DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return lexicon(DICTIONARY)


def edit_distance(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


@pytest.mark.parametrize("word", ["monday", "tango", "new", "activated", "family"])
def test_distances_are_the_phone_edit_distance(lex: Lexicon, word: str) -> None:
    target = lex.prons(word)[0]
    found = distances(lex, target, 2, 0)
    assert found, "no entry within two phones"
    for row, d in found.items():
        pron = tuple(lex.phones[c] for c in lex.codes[row][: lex.lengths[row]])
        assert d == edit_distance(pron, target) <= 2 and syllables(pron) == syllables(target)
    # and nothing within two phones (with as many syllables) is missed, on a sample of the dictionary
    rng = random.Random(0)
    for row in rng.sample(range(len(lex.words)), 3000):
        pron = tuple(lex.phones[c] for c in lex.codes[row][: lex.lengths[row]])
        if syllables(pron) == syllables(target) and edit_distance(pron, target) <= 2:
            assert any(lex.words[r] == lex.words[row] for r in found), lex.words[row]


def test_decoys_are_other_words_near_the_menu_words(lex: Lexicon) -> None:
    near = near_words(DAYS, lex, DECOY_RULE)
    assert set(near) == set(DAYS)
    own = {p for w in DAYS for p in lex.prons(w)}
    for word, decoys in near.items():
        assert 0 < len(decoys) <= DECOY_RULE.per_word
        for decoy in decoys:
            assert decoy not in DAYS and not decoy.startswith(word) and stem(decoy) != stem(word)
            assert not any(p in own for p in lex.prons(decoy)), f"{decoy} sounds like a menu word"
            d = min(edit_distance(p, q) for p in lex.prons(decoy) for q in lex.prons(word))
            assert DECOY_RULE.min_distance <= d <= DECOY_RULE.max_distance
    assert "mondays" not in near["monday"] and "monday's" not in near["monday"]
    assert "someday" in near["sunday"]  # S AH M D EY: one phone from sunday


def test_forms_of_a_menu_word_are_not_its_decoys(lex: Lexicon) -> None:
    near = near_words(("enabled", "activated", "friends"), lex, DecoyRule(1, 2, 1000))
    assert "enable" not in near["enabled"] and "activating" not in near["activated"]
    assert "friend's" not in near["friends"]
    assert stem("activated") == stem("activating") and stem("enable") == stem("enabled")


def test_decoy_phrases_swap_one_word_of_a_phrase() -> None:
    near = {"billing": ["building"], "support": ["sport"], "sales": []}
    assert decoy_phrases(["billing", "technical support", "sales"], near) == ["building", "technical sport"]
    text = decoy_jsgf(["billing", "technical support"], ["building", "technical sport"])
    assert "<phrase> = billing | ( technical support );" in text
    assert "<decoy> = building | ( technical sport );" in text


def test_the_check_zeroes_an_answer_a_decoy_beat() -> None:
    assert Decoys.check(["monday"], ["monday"], 0.6) == (0.6, "beats decoys")
    assert Decoys.check(["mundane"], ["monday"], 0.6) == (0.0, "decoy mundane")
    assert Decoys.check([], ["monday"], 0.6) == (0.0, "decoy (nothing)")


def test_decoy_grammars_are_made_once_per_menu() -> None:
    decoys = Decoys(DICTIONARY, DECOY_RULE)
    first = decoys.jsgf(DAYS)
    assert decoys.jsgf(DAYS) is first
    assert "someday" in first and "<phrase> = " + " | ".join(DAYS) + ";" in first
