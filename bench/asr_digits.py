"""Spoken digit strings in a human voice, before and after "oh" / exact-length digit grammars.

The voice: Allison Smith's prompt recordings from Debian's ``asterisk-core-sounds-en-wav``
(CC-BY-SA-3.0; read in place under /usr/share/asterisk/sounds, never copied), one file per
digit and one for "oh", spliced into numbers with 80 ms between words
(:mod:`tests.support.prompt_voice`). Without the package the table is skipped with a note.

Each string is decoded by pocketsphinx twice on the same window (500 ms lead, the number,
700 ms tail, 16 kHz): *before* with the grammar the gateway built until now (JSGF of the ten
digit words "zero" to "nine", ``min..max`` of them), *after* with today's grammar
(:func:`media.asr.sphinx_search.fsg`: "oh" and "double" / "triple" too, never more than
``max_digits``, fewer ones a competing no-match). Taken at the engine's ``min_confidence``
(0.5) and, for a read-back gather, at ``confirm_confidence`` (0.2).

Tasks: ``digits4-oh`` (4-digit strings with a 0 said "oh", exactly 4 asked), ``digits4-zero``
(the same said "zero"), ``digits7`` / ``digits7-oh`` (7-digit strings, exactly 7),
``digits7-in-4-8`` (7 digits where a flow allows 4 to 8, as the issue measured),
``short3-in-4`` (three digits said where four are asked: right = a no-match). Conditions:
clean (the recordings are 8 kHz already), 20 dB and 10 dB white noise under the speech.
Columns: right %, no-match %, wrong % (a different number taken: a misroute, or read back).

    ./bin/bench asr                  # the main table, then this one
    python -m bench.asr_digits       # this table alone
"""

from __future__ import annotations

import json
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from media.asr.grammar import Grammar
from media.asr.sphinx_engine import SphinxEngine
from media.asr.sphinx_search import fsg
from media.audio import Audio, resample

CONDITIONS = ("clean", "snr20", "snr10")
LEAD_MS, TAIL_MS = 500, 700
# 0 is said "oh" where a string has "o"
PINS_OH = ("9o51", "3o17", "569o", "1o24", "2oo8", "73o5", "4o4o", "8o12", "6o39", "o472", "5o6o", "3o88")
SEVENS = (
    "5550123",
    "8675309",
    "2024816",
    "3141592",
    "9070351",
    "4162738",
    "6283185",
    "1357924",
    "7788123",
    "2468013",
    "3904417",
    "7130592",
)
SHORT = ("123", "905", "468", "777", "310", "642", "589", "014")


@dataclass(frozen=True)
class Task:
    name: str
    strings: tuple[str, ...]
    low: int
    high: int


TASKS = (
    Task("digits4-oh", PINS_OH, 4, 4),
    Task("digits4-zero", tuple(s.replace("o", "0") for s in PINS_OH), 4, 4),
    Task("digits7", SEVENS, 7, 7),
    Task("digits7-oh", tuple(s.replace("0", "o") for s in SEVENS), 7, 7),
    Task("digits7-in-4-8", SEVENS, 4, 8),
    Task("short3-in-4", SHORT, 4, 4),
)


def before_jsgf(low: int, high: int) -> str:
    """The digit grammar the gateway built before: "zero" to "nine" only, ``low..high`` of them."""
    words = " | ".join(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"))
    optional = ""
    for _ in range(high - low):
        optional = f"[ <digit> {optional}]" if optional else "[ <digit> ]"
    body = " ".join(["<digit>"] * low) + (f" {optional}" if optional else "")
    return f"#JSGF V1.0;\ngrammar asr;\npublic <utterance> = <digits>;\n<digit> = {words};\n<digits> = {body};\n"


def window(samples48k: np.ndarray, condition: str, label: str) -> bytes:
    """The number with lead and tail silence under ``condition``, as 16 kHz s16le."""
    x = np.concatenate([np.zeros(48 * LEAD_MS, np.int16), samples48k, np.zeros(48 * TAIL_MS, np.int16)])
    if condition.startswith("snr"):
        from bench.asr_accuracy import active_dbfs, to_int16

        level = active_dbfs(samples48k)
        rng = np.random.default_rng(zlib.crc32(f"{condition}|{label}".encode()))
        x = to_int16(x.astype(np.float64) + rng.normal(0.0, 32768 * 10 ** ((level - int(condition[3:])) / 20), len(x)))
    return resample(Audio(x, 48000), 16000).samples.tobytes()


def run(engine: SphinxEngine | None = None) -> dict[str, Any]:
    """Every task x condition x (before, after); rows for the table and the JSON."""
    from tests.support import prompt_voice

    missing = prompt_voice.ensure_installed()
    if missing:
        return {"skipped": missing, "rows": []}
    engine = engine or SphinxEngine(pool_size=1)
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for task in TASKS:
        after_grammar = Grammar.of([], digits=True, min_digits=task.low, max_digits=task.high)
        texts = {"before": before_jsgf(task.low, task.high), "after": fsg(after_grammar)}
        audio = {s: prompt_voice.spoken_number(s) for s in task.strings}
        for condition in CONDITIONS:
            for version, text in texts.items():
                counts = {"right": 0, "no_match": 0, "wrong": 0, "read_back_right": 0, "read_back_wrong": 0}
                wrong: list[str] = []
                for said, samples in audio.items():
                    result = engine.decode(window(samples, condition, said), after_grammar, text)
                    expect = None if task.name.startswith("short") else said.replace("o", "0")
                    got = result.digits if result.in_grammar else None
                    for gate, right_key, wrong_key in (
                        (engine.min_confidence, "right", "wrong"),
                        (engine.confirm_confidence, "read_back_right", "read_back_wrong"),
                    ):
                        taken = got if got is not None and result.confidence >= gate else None
                        if taken == expect:
                            counts[right_key] += 1
                        elif taken is None:
                            counts["no_match"] += gate == engine.min_confidence
                        else:
                            counts[wrong_key] += 1
                            if wrong_key == "wrong":
                                wrong.append(f"{said} -> {taken} ({result.confidence:.2f})")
                n = len(audio)
                rows.append(
                    {
                        "task": task.name,
                        "condition": condition,
                        "grammar": version,
                        "trials": n,
                        **{f"{k}_pct": round(100 * v / n, 1) for k, v in counts.items()},
                        "wrong_examples": wrong,
                    }
                )
    return {
        "voice": "Allison Smith, asterisk-core-sounds-en-wav (CC-BY-SA-3.0), spliced digits",
        "seconds": round(time.perf_counter() - started, 1),
        "rows": rows,
    }


def print_table(result: dict[str, Any]) -> None:
    if result.get("skipped"):
        print(f"spoken digits in a human voice: skipped ({result['skipped']})")
        return
    print(f"\nspoken digits, {result['voice']}: before / after the 'oh' + exact-length grammars")
    head = (
        f"{'task':15s} {'condition':9s} {'grammar':7s} {'trials':>6s} {'right':>6s} {'no-match':>8s} "
        f"{'wrong':>6s} {'rb-right':>8s} {'rb-wrong':>8s}"
    )
    print(head)
    print("-" * len(head))
    for r in result["rows"]:
        print(
            f"{r['task']:15s} {r['condition']:9s} {r['grammar']:7s} {r['trials']:6d} {r['right_pct']:5.0f}% "
            f"{r['no_match_pct']:7.0f}% {r['wrong_pct']:5.0f}% {r['read_back_right_pct']:7.0f}% "
            f"{r['read_back_wrong_pct']:7.0f}%"
        )
    print(
        "right / no-match / wrong at min_confidence (wrong = a different number taken); rb- = a read-back gather "
        "at confirm_confidence (rb-wrong = a wrong number read back, costing a 'no'); short3-in-4: right = no-match"
    )


def main() -> None:
    result = run()
    print_table(result)
    out = Path(__file__).resolve().parent / "results" / "asr_digits.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
