"""Limits of the wire protocol: what a client may send. The browser code reads the same numbers from the
generated ``webclient/static/shared/protocol.js`` (see :mod:`gateway.protocol.js`)."""

from __future__ import annotations

import re

MAX_FRAME_BYTES = 16 * 1024
MAX_TEXT_CHARS = 4000
MAX_DRAFT_CHARS = 1000
MAX_CLIENT_ID_CHARS = 64
MAX_CONTEXT_KEYS = 20
MAX_CONTEXT_VALUE_CHARS = 500
MAX_SDP_CHARS = 12 * 1024
MAX_DTMF_DIGITS = 32
MIN_RATING = 1  # a customer's satisfaction rating of a closed conversation: an integer MIN_RATING..MAX_RATING
MAX_RATING = 5
MAX_RATING_COMMENT_CHARS = 1000
MAX_HELP_TEXT_CHARS = 200  # an agent's help request: why, in a few words
MAX_WATCHED_CHATS = 10  # conversations one supervisor's socket follows live at once (chat_watch)
DTMF_KEYS = "0123456789*#ABCD"
REFRESH_GRACE_SECONDS = 300
"""How long past its expiry an agent's access token can still be refreshed while its login session lives (a laptop
that slept, a background tab whose timers were held back); the desk signs out only after it."""
CONTEXT_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"  # becomes the flow variable context.<key>
CONTEXT_KEY_RE = re.compile(CONTEXT_KEY_PATTERN)
