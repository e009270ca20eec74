"""Errors of the speech recognition package, all :class:`media.errors.MediaError`.

Each carries a stable ``code`` and a human ``message`` naming what failed
(the model path, the URL, the word), so the gateway can turn it into its
protocol error in one place.
"""

from __future__ import annotations

from media.errors import MediaError


class AsrError(MediaError):
    """Speech recognition cannot go on: bad grammar, engine or model failure."""

    code = "asr_error"


class ModelNotFoundError(AsrError):
    """A model name or path that is neither a directory nor an installed model."""

    code = "asr_model_not_found"


class ModelInstallError(AsrError):
    """Downloading, verifying or unpacking a model failed; the message names the URL and the reason."""

    code = "asr_model_install_failed"
