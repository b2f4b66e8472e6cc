"""Deprecated: moved to seqserve.client.translation_client; this path works for one more release."""

from __future__ import annotations

import warnings

from seqserve.client.translation_client import TranslateReply, TranslationClient

__all__ = ["TranslateReply", "TranslationClient"]

warnings.warn(
    f"{__name__} is deprecated (the client has its own package): "
    "import seqserve.client.translation_client instead",
    DeprecationWarning,
    stacklevel=2,
)
