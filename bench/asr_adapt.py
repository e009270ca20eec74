"""``python -m bench.asr_adapt``: adapt pocketsphinx's en-us model to the telephone band (MLLR), fit part only.

Issue 17: right menu words fit the en-us model about 4 score units per frame worse on the telephone band than on
16 kHz audio (its 25 mel filters reach 6800 Hz; 8 kHz audio leaves 4-8 kHz to the comfort noise). This estimates
one global MLLR transform of the model's means (the CMU Sphinx "adapting the default acoustic model" procedure)
from the telephone-band windows the engine itself decodes, and measures it.

``collect DIR``: every *fit-part* single-word recording of the human set (:mod:`bench.human_set`) whose word is
in no held-out item, and every fit-part prompt none of whose words is, plays in the ``phone`` condition through
a fresh listener as in ``bench asr --set human``; the window the engine decoded is written twice as 16 kHz raw
PCM, with the first and with the second view's comfort noise (the audio the telephone band's searches score),
with its transcript. No held-out recording and no held-out word is in ``DIR``.

``solve DIR``: Debian's sphinxbase-utils and sphinxtrain (apt-get install sphinxbase-utils sphinxtrain
pocketsphinx): ``sphinx_fe`` with the model's feat.params, the model's ``sendump`` written out as the
``mixture_weights`` ``bw`` needs, ``bw`` to collect the counts, ``mllr_solve`` for one transform
(``DIR/mllr_matrix``: a few kB of text).

``screen DIR``: the first view of the 55 menu words (both parts) on the telephone band, decoded directly from the
windows the listener gives, under decoder settings: the transform, and the feature-side options (``-cmn``,
``-varnorm``, ``-lowerf``, ``-upperf``, ``-nfilt``, ``-remove_noise``; pocketsphinx 5 takes those from the model's
feat.params over the Decoder's arguments, so each gets a copy of the model directory with its feat.params edited, in
``DIR/models``): right words and their median fit.

``eval DIR``: ``bench asr --set human``'s rows for ``fitted`` without a transform (``unadapted``: the gate
FITTED_NARROW) and with the product's (media/asr/telephone_band.mllr, or ``--mllr FILE``; the gate
FITTED_NARROW_ADAPTED), held-out part by default (``--parts fit,held-out``, ``--conditions phone,clean``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import struct
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pocketsphinx

from bench.asr_human import condition_of, family, grammar_of, play, print_human, run_human
from bench.human_set import HumanItem, ensure_installed, human_items
from media.asr.grammar import Grammar
from media.asr.loudness import with_noise_floor
from media.asr.pool import RecognitionPool
from media.asr.sphinx_decision import FITTED
from media.asr.sphinx_engine import (
    CHECK_FLOOR_BELOW_SPEECH_DB,
    CHECK_FLOOR_SEED,
    FLOOR_BELOW_SPEECH_DB,
    FLOOR_SEED,
    NARROW_TOPN,
    TELEPHONE_MLLR,
    SphinxEngine,
    measure,
)
from media.asr.sphinx_search import DecoderPool, Pooled, jsgf, search

MODEL = Path(pocketsphinx.get_model_path("en-us/en-us"))
DICT = Path(pocketsphinx.get_model_path("en-us/cmudict-en-us.dict"))
SPHINXTRAIN = Path("/usr/lib/sphinxtrain")


def words_of(text: str) -> list[str]:
    return re.sub(r"\([^)]*\)|[^a-z' ]", " ", text.lower()).split()


def training_items(items: list[HumanItem]) -> list[HumanItem]:
    """One item per fit-part recording whose words are all outside every held-out item (no letters: their labels
    are not what is said; no digit strings or yes/no cuts: their words are held-out too)."""
    held = {w for i in items if i.part == "held-out" for w in words_of(i.label)}
    held |= {"zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
    out: dict[str, HumanItem] = {}
    for item in items:
        if item.part != "fit" or item.menu.startswith(("digits", "yesno")) or item.label.startswith("letter "):
            continue
        words = words_of(item.label)
        if not words or any(w in held for w in words) or "(" in item.label or "?" in item.label:
            continue
        out.setdefault(item.label, item)
    return list(out.values())


class WindowEngine(SphinxEngine):
    """``fitted`` without a transform (as the transform was estimated) that keeps the last window it decoded."""

    def __init__(self) -> None:
        super().__init__(1, decision=FITTED, narrow_mllr=False)
        self.last = b""

    def decode(self, pcm: bytes, grammar: Grammar, grammar_text: str) -> Any:
        self.last = pcm
        return super().decode(pcm, grammar, grammar_text)


async def _collect(out: Path) -> None:
    ensure_installed()
    items = training_items(human_items())
    engine = WindowEngine()
    pool = RecognitionPool(1)
    ids, lines = [], []
    (out / "raw").mkdir(parents=True, exist_ok=True)
    try:
        for n, item in enumerate(items):
            engine.last = b""
            audio = condition_of(item.narrow, "phone", item.label)
            await play(engine, pool, grammar_of(item), audio, "bench-adapt")
            if not engine.last:
                print(f"  no window: {item.label}")
                continue
            views = (
                with_noise_floor(engine.last, FLOOR_BELOW_SPEECH_DB, FLOOR_SEED, None),
                with_noise_floor(engine.last, CHECK_FLOOR_BELOW_SPEECH_DB, CHECK_FLOOR_SEED, None),
            )
            for v, pcm in enumerate(views):
                name = f"u{n:03d}v{v}"
                (out / "raw" / f"{name}.raw").write_bytes(pcm)
                ids.append(name)
                lines.append(f"<s> {' '.join(words_of(item.label))} </s> ({name})")
    finally:
        pool.shutdown()
    (out / "fileids").write_text("\n".join(ids) + "\n")
    (out / "transcription").write_text("\n".join(lines) + "\n")
    print(f"{len(items)} fit recordings, {len(ids)} windows in {out} ({family(items[0].task)} ...)")


def write_mixture_weights(sendump: Path, out: Path) -> None:
    """The model's quantised ``sendump`` as the float ``mixture_weights`` file sphinxtrain's ``bw`` reads."""
    data = sendump.read_bytes()
    pos, fmt = 0, "<I"

    def read_str() -> bytes:
        nonlocal pos, fmt
        (n,) = struct.unpack_from(fmt, data, pos)
        if n > 65536:
            fmt = ">I"
            (n,) = struct.unpack_from(fmt, data, pos)
        pos += 4
        s = data[pos : pos + n]
        pos += n
        return s.rstrip(b"\0")

    header = {}
    read_str()  # title
    while (line := read_str()) != b"":
        k, _, v = line.decode().partition(" ")
        header[k] = v.strip()
    assert int(header.get("cluster_count", "0")) == 0, header
    shift = int(header.get("mixw_shift", "10"))
    n_feat = int(header.get("feature_count", "3"))  # the en-us sendump's header is only its format description
    rows, cols = struct.unpack_from(fmt[0] + "II", data, pos)
    pos += 8
    q = np.frombuffer(data, np.uint8, n_feat * rows * cols, pos).reshape(n_feat, rows, cols)
    mixw = np.power(1.0001, -(q.astype(np.float64) * (1 << shift)))  # (feature, density, senone)
    mixw = mixw.transpose(2, 0, 1)  # (senone, feature, density)
    mixw /= mixw.sum(axis=2, keepdims=True)
    head = b"s3\nversion 1.0\n"
    pad = (4 - (len(head) + len(b"endhdr\n")) % 4) % 4
    with out.open("wb") as f:
        f.write(head + b" " * pad + b"endhdr\n")
        f.write(struct.pack("=i", 0x11223344))
        f.write(struct.pack("=IIII", *mixw.shape, mixw.size))
        f.write(mixw.astype("=f4").tobytes())


def run(*cmd: str | Path, cwd: Path) -> None:
    print("  $", " ".join(str(c) for c in cmd), flush=True)
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True)
    (cwd / f"{Path(str(cmd[0])).name}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({done.returncode}): {(done.stdout + done.stderr)[-2000:]}")


def _feat_args() -> list[str]:
    args = (MODEL / "feat.params").read_text().split()
    keep = {"-lowerf", "-upperf", "-nfilt", "-transform", "-lifter", "-remove_noise"}
    return [a for k, v in zip(args[::2], args[1::2], strict=True) if k in keep for a in (k, v)]


def solve(out: Path, classes: int = 1) -> Path:
    hmm = out / "hmm"
    if hmm.exists():
        shutil.rmtree(hmm)
    shutil.copytree(MODEL, hmm)
    run("pocketsphinx_mdef_convert", "-text", MODEL / "mdef", hmm / "mdef.txt", cwd=out)
    write_mixture_weights(MODEL / "sendump", hmm / "mixture_weights")
    (out / "mfc").mkdir(exist_ok=True)
    run(
        "sphinx_fe", *_feat_args(), "-samprate", "16000", "-raw", "yes", "-c", out / "fileids",
        "-di", out / "raw", "-ei", "raw", "-do", out / "mfc", "-eo", "mfc", cwd=out,
    )  # fmt: skip
    acc = out / "accum"
    if acc.exists():
        shutil.rmtree(acc)
    acc.mkdir()
    run(
        SPHINXTRAIN / "bw", "-hmmdir", hmm, "-moddeffn", hmm / "mdef.txt", "-ts2cbfn", ".ptm.",
        "-feat", "1s_c_d_dd", "-svspec", "0-12/13-25/26-38", "-cmn", "batch", "-agc", "none",
        "-dictfn", DICT, "-fdictfn", hmm / "noisedict", "-ctlfn", out / "fileids", "-lsnfn", out / "transcription",
        "-cepdir", out / "mfc", "-accumdir", acc, cwd=out,
    )  # fmt: skip
    matrix = out / "mllr_matrix"
    run(
        SPHINXTRAIN / "mllr_solve", "-meanfn", hmm / "means", "-varfn", hmm / "variances",
        "-outmllrfn", matrix, "-accumdir", acc, cwd=out,
    )  # fmt: skip
    print(f"wrote {matrix} ({matrix.stat().st_size} bytes)")
    return matrix


def evaluate(mllr: Path | None, conditions: list[str], parts: tuple[str, ...], quick: bool) -> None:
    """``fitted`` without a transform (``unadapted``: its gate FITTED_NARROW) and with ``mllr`` (None: the
    product's TELEPHONE_MLLR; gate FITTED_NARROW_ADAPTED), in one run."""
    engines = {
        "unadapted": SphinxEngine(1, decision=FITTED, narrow_mllr=False),
        FITTED: SphinxEngine(1, decision=FITTED, narrow_mllr=mllr or True),
    }
    t0 = time.perf_counter()
    result = asyncio.run(run_human(conditions, quick, parts=parts, engines=engines))
    print_human(result)
    print(f"{time.perf_counter() - t0:.0f} s")


#: ``screen``'s decoder settings: name -> Decoder arguments (feature-side ones go into a copy of feat.params).
SCREENS: dict[str, dict[str, Any]] = {
    "topn 8 (fitted's telephone band before)": {},
    "topn 8, the transform": {"mllr": None},
    "topn 8, -cmn live": {"cmn": "live"},
    "topn 8, the transform, -cmn live": {"mllr": None, "cmn": "live"},
    "topn 8, -varnorm yes": {"varnorm": "yes"},
    "topn 8, -lowerf 300": {"lowerf": 300},
    "topn 8, -upperf 3800": {"upperf": 3800},
    "topn 8, -upperf 3800 -nfilt 20": {"upperf": 3800, "nfilt": 20},
    "topn 8, -remove_noise no": {"remove_noise": "no"},
}
FEATURE_SIDE = ("cmn", "varnorm", "lowerf", "upperf", "nfilt", "remove_noise")


class ScreenPool(DecoderPool):
    """One decoder with ``settings``: feature-side ones in a copy of the model whose feat.params has them."""

    def __init__(self, out: Path, name: str, settings: dict[str, Any]) -> None:
        super().__init__(1, MODEL, DICT)
        params = {k: v for k, v in settings.items() if k in FEATURE_SIDE}
        self._args = {k: v for k, v in settings.items() if k not in FEATURE_SIDE}
        if "mllr" in self._args:
            self._args["mllr"] = str(self._args["mllr"] or TELEPHONE_MLLR)
        self._model = MODEL
        if params:
            self._model = out / "models" / re.sub(r"[^a-z0-9]+", "-", name.lower())
            self._model.mkdir(parents=True, exist_ok=True)
            for f in MODEL.iterdir():
                if f.name != "feat.params" and not (self._model / f.name).exists():
                    (self._model / f.name).symlink_to(f)
            lines = []
            for line in (MODEL / "feat.params").read_text().splitlines():
                key = line.split(" ")[0].lstrip("-")
                lines.append(f"-{key} {params.pop(key)}" if key in params else line)
            lines += [f"-{k} {v}" for k, v in params.items()]
            (self._model / "feat.params").write_text("\n".join(lines) + "\n")

    def _make(self) -> Pooled:
        d = pocketsphinx.Decoder(
            hmm=str(self._model), dict=str(DICT), loglevel="FATAL", bestpath=False, topn=NARROW_TOPN, **self._args
        )
        return Pooled(d, d.get_cmn())


async def _menu_windows() -> list[tuple[HumanItem, bytes]]:
    items = [i for i in human_items() if family(i.task) == "menu" and not i.menu.startswith(("digits", "yesno"))]
    engine = WindowEngine()
    pool = RecognitionPool(1)
    out = []
    try:
        for item in items:
            engine.last = b""
            await play(engine, pool, grammar_of(item), condition_of(item.narrow, "phone", item.label), "bench-adapt")
            out.append((item, engine.last))
    finally:
        pool.shutdown()
    return out


def screen(out: Path) -> None:
    ensure_installed()
    windows = asyncio.run(_menu_windows())
    for name, settings in SCREENS.items():
        pool = ScreenPool(out, name, settings)
        fits = []
        for item, pcm in windows:
            if not pcm:
                continue
            audio = with_noise_floor(pcm, FLOOR_BELOW_SPEECH_DB, FLOOR_SEED, None)
            decoded = search(pool, audio, jsgf(grammar_of(item)))
            if decoded.texts == [item.expect]:
                fits.append(measure(audio, decoded)[2])
        median = f"{statistics.median(fits):.1f}" if fits else "-"
        print(f"  {name:42s} first view right {len(fits)}/{len(windows)}, median fit of the right {median}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("step", choices=("collect", "solve", "screen", "eval"))
    p.add_argument("dir", type=Path)
    p.add_argument(
        "--mllr", type=Path, help="eval: this transform instead of the product's (media/asr/telephone_band.mllr)"
    )
    p.add_argument("--conditions", default="phone")
    p.add_argument("--parts", default="held-out")
    p.add_argument("--quick", action="store_true")
    a = p.parse_args()
    if a.step == "collect":
        asyncio.run(_collect(a.dir))
    elif a.step == "solve":
        solve(a.dir)
    elif a.step == "screen":
        screen(a.dir)
    else:
        evaluate(a.mllr, a.conditions.split(","), tuple(a.parts.split(",")), a.quick)


if __name__ == "__main__":
    main()
