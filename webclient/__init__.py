"""Static browser code: the customer widget, the agent desk and the demo page (served by the gateway).

Only files under ``static/`` are served: this package's own Python files are not."""

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
