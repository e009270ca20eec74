"""One error hierarchy for the media package.

Every error carries a stable machine ``code`` and a human ``message``, like
the gateway's errors, so the gateway can turn a media failure into its own
protocol error in one place without knowing which media module raised it.
``media`` never imports ``gateway``: this module is the media side of that
contract.
"""

from __future__ import annotations

from typing import Any


class MediaError(Exception):
    """Base of every error raised on purpose by :mod:`media`."""

    code = "media_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


class TtsError(MediaError):
    """Text to speech failed: unknown voice, bad text or rate, engine failure."""

    code = "tts_error"


class AudioFileError(MediaError):
    """An audio file is missing, unreadable or holds no decodable audio."""

    code = "audio_file_error"


class TelephoneEventError(MediaError):
    """A malformed RFC 4733 payload, or telephone-event support cannot be enabled."""

    code = "telephone_event_error"


class UnsupportedPython(MediaError):
    """This Python's asyncio lacks an internal this package relies on."""

    code = "unsupported_python"


class UnsupportedAiortcVersion(MediaError):
    """The installed aiortc lacks an internal this package relies on."""

    code = "unsupported_aiortc"
