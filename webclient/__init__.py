"""Static browser code: the customer widget, the agent desk and the demo page (served by the gateway).

Native ES modules, no build step; only files under ``static/`` are served (this package's Python files are
not)::

    static/shared/   what the widget and the desk share: protocol constants (generated from gateway/protocol/),
                     the signaling socket with backoff, WebRTC call setup, ids, text lengths
    static/widget/   the customer widget; joined at start-up into the one classic script at /widget.js
                     (joiner.py), so a site embeds it with one <script> tag; widget.css is inlined
    static/desk/     the agent desk (agent.html loads desk/main.js as a module); desk/phone/ its softphone,
                     transfers and the supervisors' Live calls panel
    tests/           node --test unit tests of the shared modules and of the joined widget
"""

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
