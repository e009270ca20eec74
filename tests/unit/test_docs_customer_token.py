"""The README's customer-token examples (Python and Node.js) make tokens the gateway verifies."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

from gateway.wire.site_tokens import SiteKeys

README = Path(__file__).parents[2] / "README.md"
SECRET = "shop-secret-0123456789abcdef0123456789"


def _block(language: str, marker: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    found = [b for b in blocks if marker in b]
    assert len(found) == 1, f"README has {len(found)} {language} blocks with {marker!r}"
    return found[0]


def test_the_python_example_makes_a_token_that_verifies() -> None:
    scope: dict[str, object] = {}
    exec(_block("python", "def customer_token"), scope)  # noqa: S102 - our own README
    token = scope["customer_token"]("crm-4711", "Ann", "gold", SECRET)  # type: ignore[operator]
    verified = SiteKeys((("shop", SECRET),)).verify(token, now=time.time())
    assert verified.variables() == {"verified.sub": "crm-4711", "verified.name": "Ann", "verified.tier": "gold"}


def test_the_node_example_makes_a_token_that_verifies() -> None:
    script = (
        _block("js", "function customerToken")
        + f"\nprocess.stdout.write(customerToken('crm-4711', 'Ann', 'gold', '{SECRET}'));\n"
    )
    token = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True, timeout=30).stdout
    verified = SiteKeys((("shop", SECRET),)).verify(token, now=time.time())
    assert verified.claims["tier"] == "gold" and verified.subject == "crm-4711"
