"""A calibration set of real human speech: Debian's ``asterisk-core-sounds-en-g722`` and ``-en-wav``, read in place.

The recordings are Allison Smith's professional IVR prompt voice (en-US),
packaged by Debian from downloads.asterisk.org under CC-BY-SA 3.0
(``/usr/share/doc/asterisk-core-sounds-en-g722/copyright``, the same file as the
wav package's). Every prompt comes twice: 16 kHz G.722 (``-en-g722``, the
*wideband* source: what a WebRTC caller's Opus audio carries and the band
pocketsphinx's en-us model was trained on) and 8 kHz WAV (``-en-wav``, the
*telephone band*: real 8 kHz recordings). Every item holds both
(:attr:`HumanItem.audio` wideband, :attr:`HumanItem.narrow`), cut and spliced
the same way. They are read where the packages put them (:data:`SOUNDS`),
never copied into this repository: ``./bin/bench asr`` and the tests install
the packages with apt-get when missing (:func:`ensure_installed`, like
``./bin/test`` installs chromium).

What the set holds (:func:`human_trials`), every item at 48 kHz:

- ``days`` menu: grammar [monday ... sunday]; in-grammar words are the
  recordings ``digits/day-0..6``; out-of-grammar single words *near* the menu
  (the months ``digits/mon-0..11``, "today", "tomorrow", "yesterday") and
  *far* from it (NATO words ``phonetic/*_p``, "hello", "goodbye", ...).
- ``months`` menu: [january ... june]; the other six months are near
  out-of-grammar words, days and NATO words far ones.
- ``nato`` menu: [alpha, bravo, charlie, delta, tango]; the other NATO words
  are near, months far.
- ``tens`` [ten, twenty ... fifty] (near: eleven-sixteen, sixty-ninety), ``status`` [activated, enabled,
  disabled, cancelled, removed] (near: deactivated, added, saved, ...), ``folders`` [new, old, work, family,
  friends, urgent] (near: no, first, last, for, your, with), ``symbols`` [star, pound, dash, dot, plus]
  (near: minus, slash, space, ...), ``dictate`` [record, playback, pause, message, password] and
  ``late-months`` [july ... december]: single-word recordings of the same voice (:data:`MORE`); far words
  include the spoken letters (``letters/a`` ...).
- ``phrases``: whole prompts ("please try again", "one moment please") in
  every menu grammar: must not route.
- ``digits4`` / ``digits4-oh`` / ``digits7``: digit strings spliced from
  ``digits/0..9`` (and ``digits/oh``) with 40-140 ms gaps.
- ``yesno`` (:func:`yesno_items`): the read-back question's grammar (ivr/readback.py: yes, yeah, correct, right,
  no, wrong). The voice says "correct", "right", "wrong" only inside prompts, so they are cut out of them by forced
  alignment (:mod:`bench.word_cuts`, :data:`YESNO_CUTS`); ``yesno-oog-near`` ("incorrect", "now", "not", "oh",
  "less", ...), ``yesno-oog-far``, ``yesno-phrases`` and ``yesno-homophone`` ("know") must not answer.

:func:`split_of` puts every item in the ``fit`` or the ``held-out`` part by a
hash of its word (out-of-grammar words, digit strings) or of word and menu, so
no held-out out-of-grammar word was seen while fitting.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.word_cuts import Take, cut_word
from media.audio import Audio, resample
from tests.support import prompt_voice
from tests.support.prompt_voice import (
    NARROW,
    PACKAGE,
    RATE,
    SOUNDS,
    WIDE,
    WIDE_PACKAGE,
    Samples,
    recording_audio,
    splice,
    trim,
)

COPYRIGHT = Path(f"/usr/share/doc/{WIDE_PACKAGE}/copyright")
SOURCE = (
    f"Debian packages {WIDE_PACKAGE} (wideband: 16 kHz G.722) and {PACKAGE} (telephone band: 8 kHz WAV), "
    f"Allison Smith's IVR prompt voice, en-US, from downloads.asterisk.org; licence CC-BY-SA 3.0, see {COPYRIGHT}; "
    f"read in place from {SOUNDS}"
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
    "spy-agent": "agent",
    "digits/billion": "billion",
    "digits/oclock": "o'clock",
    "vm-password": "password",
}
TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
#: Single words of the newer menus (file -> word); every recording is one word, 0.3-1.2 s.
MORE = {
    **{f"digits/{n}": w for n, w in enumerate(TEENS, start=10)},
    **{f"digits/{10 * n}": w for n, w in enumerate(TENS, start=2)},
    "activated": "activated",
    "enabled": "enabled",
    "disabled": "disabled",
    "cancelled": "cancelled",
    "removed": "removed",
    "added": "added",
    "de-activated": "deactivated",
    "vm-saved": "saved",
    "vm-deleted": "deleted",
    "vm-received": "received",
    "dictate/paused": "paused",
    "dictate/pause": "pause",
    "dictate/record": "record",
    "dictate/playback": "playback",
    "vm-message": "message",
    "vm-messages": "messages",
    "vm-INBOX": "new",
    "vm-Old": "old",
    "vm-Work": "work",
    "vm-Family": "family",
    "vm-Friends": "friends",
    "vm-Urgent": "urgent",
    "vm-no": "no",
    "vm-first": "first",
    "vm-last": "last",
    "vm-for": "for",
    "your": "your",
    "with": "with",
    "digits/star": "star",
    "digits/pound": "pound",
    "letters/dash": "dash",
    "letters/dot": "dot",
    "letters/plus": "plus",
    "digits/minus": "minus",
    "letters/slash": "slash",
    "letters/space": "space",
    "letters/asterisk": "asterisk",
    "letters/dollar": "dollar",
    "letters/equals": "equals",
    "letters/zed": "zed",
    "uppercase": "uppercase",
    "lowercase": "lowercase",
}
#: Letters said alone ("letters/a" is "ay"): far out-of-grammar words, short ones.
LETTERS = {f"letters/{c}": f"letter {c}" for c in "abcdefghijklmnopqrstuvwxyz"}
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
    "vm-nobodyavail": "nobody is available",
    "conf-getpin": "please enter the conference pin",
    "demo-thanks": "thank you for trying the demo",
    "vm-login": "comedian mail, mailbox?",
    "call-forwarding": "call forwarding",
    "do-not-disturb": "do not disturb",
    "speed-dial": "speed dial",
    "call-waiting": "call waiting",
    "check-number-dial-again": "please check the number and dial again",
    "vm-reachoper": "to reach an operator",
    "vm-nonumber": "I am afraid I do not know that number",
    "privacy-thankyou": "thank you",
}
#: The yes/no question of a read-back (ivr/readback.py's English words; "yeah" is never said in the set, "yes" only as
#: the start of "yesterday").
YESNO_WORDS = {"yes": "yes", "yeah": "yes", "correct": "yes", "right": "yes", "no": "no", "wrong": "no"}
#: Words cut out of whole prompts (bench/word_cuts.py): kind -> takes. ``in``: the yes/no words; ``near``: words
#: outside the grammar one or two phones from one of its words (cmudict-en-us), "incorrect" above all;
#: ``homophone``: "know", which sounds exactly like "no" (reported apart: no decision can refuse it).
YESNO_CUTS: dict[str, tuple[Take, ...]] = {
    "in": (
        Take("digits/yesterday", "yes terday", "yes"),  # cut at the closure of the t (bench/word_cuts.py's PIECES)
        Take("if-correct-press", "if this is correct press", "correct"),
        Take("letters/ascii125", "right brace", "right"),
        Take("letters/ascii93", "right bracket", "right"),
        Take("something-terribly-wrong", "something is terribly wrong", "wrong"),
        Take("tt-somethingwrong", "something is terribly wrong", "wrong"),
        Take("vm-nomore", "no more messages", "no"),
        Take("dir-nomatch", "no directory entries match your search", "no"),
        Take("dir-nomore", "there are no more compatible entries in the directory", "no"),
        Take("demo-nomatch", "i'm sorry there are no matches for those keywords", "no"),
        Take("call-fwd-no-ans", "call forward on no answer", "no"),
        Take("pbx-invalidpark", "i am sorry there is no call parked on that extension please try again", "no"),
    ),
    "near": (
        Take("vm-incorrect", "login incorrect", "incorrect"),
        Take("vm-incorrect-mailbox", "login incorrect mailbox", "incorrect"),
        Take(
            "agent-incorrect", "login incorrect please enter your agent number followed by the pound key", "incorrect"
        ),
        Take("auth-incorrect", "password incorrect please enter your password followed by the pound key", "incorrect"),
        Take("all-circuits-busy-now", "all circuits are busy now", "now"),
        Take("conf-lockednow", "the conference is now locked", "now"),
        Take("conf-muted", "you are now muted", "now"),
        Take("vm-instructions", "to look into your messages press one now", "now"),
        Take("do-not-disturb", "do not disturb", "not"),
        Take("feature-not-avail-line", "that feature is not available on this line", "not"),
        Take("vm-invalidpassword", "that is not a valid password please try again", "not"),
        Take("pls-hold-while-try", "please hold while we try to connect you", "connect"),
        Take("vm-dialout", "please wait while i connect your call", "connect"),
        Take("vm-repeat", "press five to repeat the current message", "current"),
        Take("queue-less-than", "less than", "less"),
        Take("pls-hold-while-try", "please hold while we try to connect you", "try"),
    ),
    "homophone": (Take("vm-nonumber", "i'm afraid i don't know who sent this message", "know"),),
}
#: Whole single-word recordings in the yes/no task (file -> word): ``in``, ``near`` (a phone or two from a yes/no
#: word) and ``far`` ones.
YESNO_WHOLE: dict[str, dict[str, str]] = {
    "in": {"vm-no": "no"},
    "near": {
        "vm-INBOX": "new",
        "digits/oh": "oh",
        "digits/9": "nine",
        "digits/4": "four",
        "digits/5": "five",
        "digits/yesterday": "yesterday",
        "letters/s": "letter s",
        "letters/u": "letter u",
        "letters/o": "letter o",
        "your": "your",
        "time": "time",
    },
    "far": {
        **{k: v for k, v in SINGLE.items() if v not in ("time", "your")},
        "digits/day-1": "monday",
        "digits/mon-2": "march",
        "phonetic/e_p": "echo",
        "phonetic/t_p": "tango",
        "vm-Family": "family",
        "dictate/record": "record",
    },
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
    "tens": (
        ("ten", "twenty", "thirty", "forty", "fifty"),
        ("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "sixty", "seventy", "eighty", "ninety"),
    ),
    "status": (
        ("activated", "enabled", "disabled", "cancelled", "removed"),
        ("deactivated", "added", "saved", "deleted", "received", "paused"),
    ),
    "folders": (("new", "old", "work", "family", "friends", "urgent"), ("no", "first", "last", "for", "your", "with")),
    "symbols": (
        ("star", "pound", "dash", "dot", "plus"),
        ("minus", "slash", "space", "asterisk", "dollar", "equals", "zed"),
    ),
    "dictate": (("record", "playback", "pause", "message", "password"), ("paused", "messages", "received", "saved")),
    "late-months": (MONTHS[6:], (*MONTHS[:6], "today", "tomorrow")),
}
PINS4 = (
    "1234", "5690", "7788", "3017", "2468", "9051", "4815", "6203", "8642", "1357", "2090", "7401",
    "3960", "5172", "8806", "4539", "1025", "6748", "9383", "2701", "5046", "7219", "3508", "6694",
    "1180", "8427", "4062", "9735", "2356", "7930", "6015", "3842",
)  # fmt: skip
PINS7 = (
    "5551234", "8675309", "2024680", "9130572", "4406118", "3097251",
    "6170394", "2859016", "7403825", "1968407", "5320769", "8046153",
)  # fmt: skip


def ensure_installed() -> None:
    """Install both Debian packages when their recordings are missing (as root, tests/support/prompt_voice.py),
    else say how: raises SystemExit."""
    missing = prompt_voice.ensure_installed(wide=True)
    if missing:
        raise SystemExit(f"the human speech set: {missing}")


_cache: dict[tuple[str, str], Samples] = {}


def recording(name: str, band: str = NARROW) -> Samples:
    """``digits/day-1`` -> that recording (``band``: the 8 kHz wav or the 16 kHz G.722), trimmed, at 48 kHz."""
    found = _cache.get((name, band))
    if found is None:
        audio = recording_audio(name, band)
        # without the leading and trailing silence: 10 ms blocks under -45 dBFS or 40 dB under the peak
        trimmed = Audio(trim(audio.samples, audio.sample_rate, 40.0, floor_dbfs=-45.0), audio.sample_rate)
        found = _cache[(name, band)] = resample(trimmed, RATE).samples
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
    for table in (SINGLE, MORE, LETTERS):
        for name, w in table.items():
            if w == word:
                return name
    raise KeyError(word)


def spliced(pin: str, oh: bool, seed: int, band: str = NARROW) -> tuple[str, Samples]:
    """A digit string spliced from single digit recordings with 40-140 ms gaps; ``oh``: zeros said "oh"."""
    rng = np.random.default_rng(seed)
    spoken = ["oh" if d == "0" and oh else d for d in pin]
    gaps = [int(RATE * rng.uniform(0.04, 0.14)) for _ in pin[1:]]
    return " ".join(spoken), splice((recording(f"digits/{w}", band) for w in spoken), gaps)


def split_of(key: str) -> str:
    """``fit`` or ``held-out``, by a stable hash of ``key`` (about half each)."""
    return "fit" if zlib.crc32(key.encode()) % 2 == 0 else "held-out"


@dataclass(frozen=True)
class HumanItem:
    task: str  # e.g. "days", "days-oog-near", "days-phrases", "digits4-oh"
    menu: str  # the menu name, or "digits4" / "digits7"
    label: str
    audio: Samples  # wideband: from the 16 kHz G.722 recording
    expect: str | None  # the word or digit string that is right; None: must not route
    part: str  # "fit" or "held-out"
    narrow: Samples  # the same from the 8 kHz wav (the telephone band), cut and spliced the same way


def _far_words(sources: tuple[str, ...], words: tuple[str, ...], near: tuple[str, ...]) -> list[str]:
    """The far out-of-grammar words of a menu from its ``sources`` (none of its own or its near words)."""
    out: list[str] = []
    for source in sources:
        if source == "days":
            out += DAYS
        elif source == "months":
            out += MONTHS
        elif source == "letters":
            out += LETTERS.values()
        elif source == "nato":
            out += NATO.values()
        else:
            out += SINGLE.values()
    return [w for w in out if w not in words and w not in near]


def human_items() -> list[HumanItem]:
    """Every item of the human set (both parts)."""
    items: list[HumanItem] = []
    far = {
        "days": ("nato", "single"),
        "months": ("days", "nato", "single"),
        "nato": ("months", "single"),
        "words": ("days", "nato"),
        "tens": ("days", "letters"),
        "status": ("months", "single", "letters"),
        "folders": ("nato", "letters"),
        "symbols": ("days", "single"),
        "dictate": ("nato", "months", "letters"),
        "late-months": ("nato", "letters"),
    }
    for menu, (words, near) in MENUS.items():
        for w in words:
            # in-grammar: one take per word; the part alternates by a hash of menu and word
            items.append(_item(menu, menu, w, word_file(w), w, split_of(w)))
        for w in near:
            items.append(_item(f"{menu}-oog-near", menu, w, word_file(w), None, split_of(w)))
        far_words = _far_words(far[menu], words, near)
        for w in dict.fromkeys(far_words):
            items.append(_item(f"{menu}-oog-far", menu, w, word_file(w), None, split_of(w)))
        for name, text in PHRASES.items():
            items.append(_item(f"{menu}-phrases", menu, text, name, None, split_of(name)))
    for pins, task in ((PINS4, "digits4"), (PINS7, "digits7")):
        for pin in pins:
            for oh in (False, True):
                if oh and "0" not in pin:
                    continue
                seed = zlib.crc32(f"{pin}|{oh}".encode())
                spoken, audio = spliced(pin, oh, seed, WIDE)
                _, narrow = spliced(pin, oh, seed, NARROW)
                items.append(HumanItem(f"{task}-oh" if oh else task, task, spoken, audio, pin, split_of(pin), narrow))
        for name, text in list(PHRASES.items())[:6]:
            items.append(_item(f"{task}-phrases", task, text, name, None, split_of(name)))
    return items + yesno_items()


def yesno_items() -> list[HumanItem]:
    """The read-back question's yes/no grammar (menu ``yesno``): ``yesno`` (its words, cut out of prompts or said
    alone; expect "yes" or "no", the answer they give), ``yesno-oog-near`` / ``-far`` / ``-phrases`` (must not
    answer), ``yesno-homophone`` ("know": heard as "no" by any decision, reported apart). A take of a yes/no word
    is in a part by its word and recording (every word has few takes); a word outside the grammar by its word."""
    items: list[HumanItem] = []
    for kind, takes in YESNO_CUTS.items():
        for take in takes:
            wide, narrow = cut_word(take, WIDE), cut_word(take, NARROW)
            label = f"{take.word} ({take.name})"
            if kind == "in":
                expect: str | None = YESNO_WORDS[take.word]
                part = split_of(f"{take.word}|{take.name}")
            else:
                expect, part = None, split_of(take.word)
            task = "yesno" if kind == "in" else f"yesno-{'oog-near' if kind == 'near' else kind}"
            items.append(HumanItem(task, "yesno", label, wide.samples, expect, part, narrow.samples))
    for kind, files in YESNO_WHOLE.items():
        for name, word in files.items():
            if kind == "in":
                items.append(_item("yesno", "yesno", word, name, YESNO_WORDS[word], split_of(f"{word}|{name}")))
            else:
                items.append(_item(f"yesno-oog-{kind}", "yesno", word, name, None, split_of(word)))
    for name, text in PHRASES.items():
        items.append(_item("yesno-phrases", "yesno", text, name, None, split_of(name)))
    return items


def _item(task: str, menu: str, label: str, name: str, expect: str | None, part: str) -> HumanItem:
    return HumanItem(task, menu, label, recording(name, WIDE), expect, part, recording(name, NARROW))
