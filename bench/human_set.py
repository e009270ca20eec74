"""A calibration set of real human speech: Debian's ``asterisk-core-sounds-en-wav``, read in place.

The recordings are Allison Smith's professional IVR prompt voice (8 kHz mono
WAV, en-US), packaged by Debian from downloads.asterisk.org under CC-BY-SA 3.0
(``/usr/share/doc/asterisk-core-sounds-en-wav/copyright``). They are read where
the package puts them (:data:`SOUNDS`), never copied into this repository:
``./bin/bench asr`` and the tests install the package with apt-get when it is
missing (:func:`ensure_installed`, like ``./bin/test`` installs chromium).

What the set holds (:func:`human_trials`), every item at 48 kHz:

- ``days`` menu: grammar [monday ... sunday]; in-grammar words are the
  recordings ``digits/day-0..6``; out-of-grammar single words *near* the menu
  (the months ``digits/mon-0..11``, "today", "tomorrow", "yesterday") and
  *far* from it (NATO words ``phonetic/*_p``, "hello", "goodbye", ...).
- ``months`` menu: [january ... june]; the other six months are near
  out-of-grammar words, days and NATO words far ones.
- ``nato`` menu: [alpha, bravo, charlie, delta, tango]; the other NATO words
  are near, months far.
- ``phrases``: whole prompts ("please try again", "one moment please") in
  every menu grammar: must not route.
- ``digits4`` / ``digits4-oh`` / ``digits7``: digit strings spliced from
  ``digits/0..9`` (and ``digits/oh``) with 40-140 ms gaps.

:func:`split_of` puts every item in the ``fit`` or the ``held-out`` part by a
hash of its word (out-of-grammar words, digit strings) or of word and menu, so
no held-out out-of-grammar word was seen while fitting.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from media.audio import Audio, resample
from media.audiofile import read_wav
from tests.support import prompt_voice
from tests.support.prompt_voice import PACKAGE, RATE, SOUNDS, Samples, splice, trim

COPYRIGHT = Path(f"/usr/share/doc/{PACKAGE}/copyright")
SOURCE = (
    f"Debian package {PACKAGE} (Allison Smith's IVR prompt voice, en-US, 8 kHz; from downloads.asterisk.org; "
    f"licence CC-BY-SA 3.0, see {COPYRIGHT}), read in place from {SOUNDS}"
)

DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")  # digits/day-0..6
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)  # digits/mon-0..11
NATO = {
    "a": "alpha",
    "b": "bravo",
    "c": "charlie",
    "d": "delta",
    "e": "echo",
    "f": "foxtrot",
    "g": "golf",
    "h": "hotel",
    "i": "india",
    "j": "juliet",
    "k": "kilo",
    "l": "lima",
    "m": "mike",
    "n": "november",
    "o": "oscar",
    "p": "papa",
    "q": "quebec",
    "r": "romeo",
    "s": "sierra",
    "t": "tango",
    "u": "uniform",
    "v": "victor",
    "w": "whiskey",
    "x": "xray",
    "y": "yankee",
    "z": "zulu",
}
#: Other single words (file -> word), far from every menu.
SINGLE = {
    "hello": "hello",
    "goodbye": "goodbye",
    "transfer": "transfer",
    "sorry": "sorry",
    "extension": "extension",
    "number": "number",
    "time": "time",
    "invalid": "invalid",
    "calling": "calling",
    "location": "location",
    "cancelled": "cancelled",
    "enabled": "enabled",
    "disabled": "disabled",
    "digits/today": "today",
    "digits/tomorrow": "tomorrow",
    "digits/yesterday": "yesterday",
    "digits/thousand": "thousand",
    "digits/hundred": "hundred",
    "digits/million": "million",
    "digits/dollars": "dollars",
    "minutes": "minutes",
    "seconds": "seconds",
    "hours": "hours",
}
#: Whole prompts: phrases that must never route in a menu.
PHRASES = {
    "please-try-again": "please try again",
    "one-moment-please": "one moment please",
    "hello-world": "hello world",
    "im-sorry": "i'm sorry",
    "auth-thankyou": "thank you",
    "telephone-number": "telephone number",
    "to-call-this-number": "to call this number",
    "number-not-answering": "number not answering",
    "pls-hold-while-try": "please hold while I try",
    "vm-goodbye": "goodbye (vm)",
    "queue-thankyou": "thank you for your patience",
    "all-circuits-busy-now": "all circuits are busy now",
}
#: The menus: name -> (grammar words, near out-of-grammar words).
MENUS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "days": (DAYS, (*MONTHS, "today", "tomorrow", "yesterday")),
    "months": (MONTHS[:6], (*MONTHS[6:], "today", "tomorrow")),
    "words": (("transfer", "extension", "number", "time", "location"), ("calling", "minutes", "hours", "seconds")),
    "nato": (
        ("alpha", "bravo", "charlie", "delta", "tango"),
        tuple(w for w in NATO.values() if w not in {"alpha", "bravo", "charlie", "delta", "tango"}),
    ),
}
PINS4 = ("1234", "5690", "7788", "3017", "2468", "9051", "4815", "6203", "8642", "1357", "2090", "7401")
PINS7 = ("5551234", "8675309", "2024680", "9130572", "4406118", "3097251")


def ensure_installed() -> None:
    """Install the Debian package when its recordings are missing (as root, tests/support/prompt_voice.py), else
    say how: raises SystemExit."""
    missing = prompt_voice.ensure_installed()
    if missing:
        raise SystemExit(f"the human speech set: {missing}")


_cache: dict[str, Samples] = {}


def recording(name: str) -> Samples:
    """``digits/day-1`` -> that recording, trimmed, at 48 kHz."""
    found = _cache.get(name)
    if found is None:
        audio = read_wav(SOUNDS / f"{name}.wav")
        # without the leading and trailing silence: 10 ms blocks under -45 dBFS or 40 dB under the peak
        trimmed = Audio(trim(audio.samples, audio.sample_rate, 40.0, floor_dbfs=-45.0), audio.sample_rate)
        found = _cache[name] = resample(trimmed, RATE).samples
    return found


def word_file(word: str) -> str:
    """The recording of one menu or out-of-grammar word."""
    if word in DAYS:
        return f"digits/day-{DAYS.index(word)}"
    if word in MONTHS:
        return f"digits/mon-{MONTHS.index(word)}"
    for letter, nato in NATO.items():
        if nato == word:
            return f"phonetic/{letter}_p"
    for name, w in SINGLE.items():
        if w == word:
            return name
    raise KeyError(word)


def spliced(pin: str, oh: bool, seed: int) -> tuple[str, Samples]:
    """A digit string spliced from single digit recordings with 40-140 ms gaps; ``oh``: zeros said "oh"."""
    rng = np.random.default_rng(seed)
    spoken = ["oh" if d == "0" and oh else d for d in pin]
    gaps = [int(RATE * rng.uniform(0.04, 0.14)) for _ in pin[1:]]
    return " ".join(spoken), splice((recording(f"digits/{w}") for w in spoken), gaps)


def split_of(key: str) -> str:
    """``fit`` or ``held-out``, by a stable hash of ``key`` (about half each)."""
    return "fit" if zlib.crc32(key.encode()) % 2 == 0 else "held-out"


@dataclass(frozen=True)
class HumanItem:
    task: str  # e.g. "days", "days-oog-near", "days-phrases", "digits4-oh"
    menu: str  # the menu name, or "digits4" / "digits7"
    label: str
    audio: Samples
    expect: str | None  # the word or digit string that is right; None: must not route
    part: str  # "fit" or "held-out"


def human_items() -> list[HumanItem]:
    """Every item of the human set (both parts)."""
    items: list[HumanItem] = []
    far = {
        "days": ("nato", "single"),
        "months": ("days", "nato", "single"),
        "nato": ("months", "single"),
        "words": ("days", "nato"),
    }
    for menu, (words, near) in MENUS.items():
        for w in words:
            # in-grammar: one take per word; the part alternates by a hash of menu and word
            items.append(HumanItem(menu, menu, w, recording(word_file(w)), w, split_of(w)))
        for w in near:
            items.append(HumanItem(f"{menu}-oog-near", menu, w, recording(word_file(w)), None, split_of(w)))
        far_words: list[str] = []
        for source in far[menu]:
            if source == "days":
                far_words += DAYS
            elif source == "months":
                far_words += [m for m in MONTHS if m not in near]
            elif source == "nato":
                far_words += [n for n in NATO.values() if n not in words and n not in near]
            else:
                far_words += [w for w in SINGLE.values() if w not in near and w not in words]
        for w in dict.fromkeys(far_words):
            items.append(HumanItem(f"{menu}-oog-far", menu, w, recording(word_file(w)), None, split_of(w)))
        for name, text in PHRASES.items():
            items.append(HumanItem(f"{menu}-phrases", menu, text, recording(name), None, split_of(name)))
    for pins, task in ((PINS4, "digits4"), (PINS7, "digits7")):
        for pin in pins:
            for oh in (False, True):
                if oh and "0" not in pin:
                    continue
                spoken, audio = spliced(pin, oh, zlib.crc32(f"{pin}|{oh}".encode()))
                items.append(HumanItem(f"{task}-oh" if oh else task, task, spoken, audio, pin, split_of(pin)))
        for name, text in list(PHRASES.items())[:6]:
            items.append(HumanItem(f"{task}-phrases", task, text, recording(name), None, split_of(name)))
    return items
