"""Deprecated: moved to seqserve.client.kinds_client; this path works for one more release."""

from __future__ import annotations

import warnings

from seqserve.client.kinds_client import (
    CaptionReply,
    Chunk,
    PredictReply,
    SeqServeClient,
    Step,
    TaggedToken,
    TagReply,
)

__all__ = [
    "CaptionReply", "Chunk", "PredictReply", "SeqServeClient", "Step", "TagReply", "TaggedToken",
]

warnings.warn(
    f"{__name__} is deprecated (the client has its own package): "
    "import seqserve.client.kinds_client instead",
    DeprecationWarning,
    stacklevel=2,
)
