"""Static browser code: the customer widget, the agent desk and the demo page (served by the gateway)."""

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent
