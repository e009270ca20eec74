"""The audio-level patch's speed (media/aiortc_patches.py): aiortc computes every received and sent frame's level
(RFC 6464) in pure Python; the patch does it with numpy. Reported as figures (microseconds per 20 ms frame, best of
several rounds, and the ratio), never asserted in a test: tests/unit/test_media_aiortc_patches.py checks that both
give the same result.

    ./bin/bench level [--rounds 7]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import av
import numpy as np

from media.aiortc_patches import ORIGINAL_COMPUTE_AUDIO_LEVEL_DBOV, compute_audio_level_dbov


def _frame() -> Any:
    samples = np.random.default_rng(1).normal(0, 3000, 960).clip(-32768, 32767).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = 48000
    return frame


def best_us(fn: Callable[[Any], Any], frame: Any, calls: int, rounds: int) -> float:
    """Microseconds per call, the best round (the least disturbed by the rest of the machine)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn(frame)
        best = min(best, (time.perf_counter() - start) / calls * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    frame = _frame()
    patched = best_us(compute_audio_level_dbov, frame, 2000, args.rounds)
    original = best_us(ORIGINAL_COMPUTE_AUDIO_LEVEL_DBOV, frame, 300, args.rounds)
    print(
        f"audio level of a 20 ms frame: aiortc {original:.1f} us, patched {patched:.1f} us, "
        f"{original / patched:.1f}x faster (best of {args.rounds} rounds)"
    )


if __name__ == "__main__":
    main()
