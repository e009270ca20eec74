"""The README's "Writing a flow" example loads, and reads right in a chat as well as on a call.

A user test pasted it into the flow editor and published it as the chat bot: the bot wrote "thank you for calling"
and "press 1 or say billing" to someone typing. The example now gives each prompt its chat form.
"""

from __future__ import annotations

import re
from pathlib import Path

from ivr.loader import load_flow

README = Path(__file__).parents[2] / "README.md"


def _example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Writing a flow") :]
    found = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert found is not None, "no yaml block under 'Writing a flow'"
    return found.group(1)


def test_the_example_loads_and_its_chat_prompts_are_not_the_call_ones(tmp_path: Path) -> None:
    path = tmp_path / "shop.yaml"
    path.write_text(_example(), encoding="utf-8")
    flow = load_flow(path)
    assert set(flow.nodes) == {"greeting", "main_menu", "billing_queue", "support_queue"}
    for name in ("greeting", "main_menu"):
        for prompt in flow.nodes[name].prompts:  # type: ignore[attr-defined]
            assert prompt.chat is not None, f"{name}: no chat form, the bot would post the call's words"
            assert not re.search(r"\b(press|calling)\b", prompt.chat.source), prompt.chat.source
