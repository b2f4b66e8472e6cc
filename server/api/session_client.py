"""Deprecated: moved to seqserve.client.session_client; this path works for one more release."""

from __future__ import annotations

import warnings

from seqserve.client.session_client import chunk_message, main, open_message, stream

__all__ = ["chunk_message", "main", "open_message", "stream"]

warnings.warn(
    f"{__name__} is deprecated (the client has its own package): "
    "import seqserve.client.session_client instead",
    DeprecationWarning,
    stacklevel=2,
)

if __name__ == "__main__":
    raise SystemExit(main())
