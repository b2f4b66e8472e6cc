"""Deprecated: moved to seqserve.client.session_mux; this path works for one more release."""

from __future__ import annotations

import warnings

from seqserve.client.session_mux import SessionMux, StepRefused

__all__ = ["SessionMux", "StepRefused"]

warnings.warn(
    f"{__name__} is deprecated (the client has its own package): "
    "import seqserve.client.session_mux instead",
    DeprecationWarning,
    stacklevel=2,
)
