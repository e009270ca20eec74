"""A module a newcomer can read in one sitting: no Python module of the product over 700 lines (browser files have
their own bound of 600: tests/unit/test_browser_modules.py). A module that grows past it is split along a real seam
(gateway/setting.py came out of gateway/config.py that way)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway", "ivr", "media")
MAX_LINES = 700


def test_no_product_module_is_over_700_lines() -> None:
    sizes = {
        str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
        for package in PACKAGES
        for p in (ROOT / package).rglob("*.py")
    }
    assert len(sizes) > 100
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
